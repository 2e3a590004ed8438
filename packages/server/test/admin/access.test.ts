import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, createSecondOrg } from "@tessera/test-kit/admin.ts";
import { countRows, uniqueEmail } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/** Every admin route, with a body that passes validation, so that only the caller decides the answer. */
interface RouteCase {
  method: string;
  path: (orgId: number | string, id: number | string) => string;
  body?: () => unknown;
  /** Whether an auditor may call it (contract §8: auditors read sessions and audit events; also users). */
  auditor: boolean;
}

const passwordPolicy = { minLength: 12, maxAgeDays: 0, historyCount: 5, maxFailedAttempts: 5, lockoutMinutes: 15 };
const sessionPolicy = {
  userIdleSeconds: 900,
  userAbsoluteSeconds: 86400,
  serviceSessionSeconds: 86400,
  renewGraceSeconds: 30,
};

const routes: RouteCase[] = [
  { method: "GET", path: (o) => `/admin/orgs/${o}/users`, auditor: true },
  {
    method: "POST",
    path: (o) => `/admin/orgs/${o}/users`,
    body: () => ({ email: uniqueEmail("refused"), role: "member" }),
    auditor: false,
  },
  {
    method: "PATCH",
    path: (o, id) => `/admin/orgs/${o}/users/${id}`,
    body: () => ({ role: "member" }),
    auditor: false,
  },
  { method: "GET", path: (o) => `/admin/orgs/${o}/password-policy`, auditor: false },
  { method: "PUT", path: (o) => `/admin/orgs/${o}/password-policy`, body: () => passwordPolicy, auditor: false },
  { method: "GET", path: (o) => `/admin/orgs/${o}/session-policy`, auditor: false },
  { method: "PUT", path: (o) => `/admin/orgs/${o}/session-policy`, body: () => sessionPolicy, auditor: false },
  { method: "GET", path: (o) => `/admin/orgs/${o}/sessions`, auditor: true },
  { method: "DELETE", path: (o, id) => `/admin/orgs/${o}/sessions/${id}`, auditor: false },
  { method: "DELETE", path: (o, id) => `/admin/orgs/${o}/users/${id}/sessions`, auditor: false },
  { method: "DELETE", path: (o) => `/admin/orgs/${o}/sessions`, auditor: false },
  { method: "GET", path: (o) => `/admin/orgs/${o}/api-keys`, auditor: false },
  { method: "DELETE", path: (o, id) => `/admin/orgs/${o}/api-keys/${id}`, auditor: false },
  { method: "GET", path: (o) => `/admin/orgs/${o}/audit`, auditor: true },
  { method: "GET", path: (o) => `/admin/orgs/${o}/introspection-clients`, auditor: false },
  {
    method: "POST",
    path: (o) => `/admin/orgs/${o}/introspection-clients`,
    body: () => ({ name: "refused" }),
    auditor: false,
  },
  { method: "DELETE", path: (o, id) => `/admin/orgs/${o}/introspection-clients/${id}`, auditor: false },
];

const label = (route: RouteCase) => `${route.method} ${route.path("{orgId}", "{id}")}`;

describe("admin API access control", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let member: Awaited<ReturnType<typeof addMemberWithSession>>;
  let auditor: Awaited<ReturnType<typeof addMemberWithSession>>;
  let otherOrgToken: string;

  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    member = await addMemberWithSession(tessera, adminToken, "member");
    auditor = await addMemberWithSession(tessera, adminToken, "auditor");
    otherOrgToken = (await createSecondOrg(tessera, adminToken)).token;
  });
  after(() => tessera.close());

  async function call(
    route: RouteCase,
    auth: { token?: string; apiKey?: string },
    orgId: number | string = tessera.orgId,
  ) {
    const body = route.body?.();
    return tessera.request(route.path(orgId, member.id), {
      method: route.method,
      ...auth,
      ...(body === undefined ? {} : { body }),
    });
  }

  it("answers 401 invalid_token with a Bearer challenge to every route without a token", async () => {
    for (const route of routes) {
      const response = await call(route, {});
      assertProblem(response, 401, "invalid_token");
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer /, label(route));
    }
  });

  it("answers 401 invalid_token to a garbage bearer token and a garbage API key", async () => {
    for (const route of routes) {
      assertProblem(await call(route, { token: "tsu_not-a-real-token" }), 401, "invalid_token");
      assertProblem(await call(route, { apiKey: "tsk_not-a-real-key" }), 401, "invalid_token");
    }
  });

  it("answers 403 forbidden to a member on every route", async () => {
    const before = await countRows(tessera);
    for (const route of routes) {
      assertProblem(await call(route, { token: member.token }), 403, "forbidden");
    }
    assert.deepEqual(await countRows(tessera), before, "no refused request wrote anything");
  });

  it("lets an auditor read users, sessions and audit events, and nothing else", async () => {
    for (const route of routes) {
      const response = await call(route, { token: auditor.token });
      if (route.auditor) assert.equal(response.status, 200, `${label(route)}: ${response.text}`);
      else assertProblem(response, 403, "forbidden");
    }
  });

  it("answers 403 forbidden to an owner's token of another org on every route, changing nothing", async () => {
    const sessionsBefore = await tessera.request(`/admin/orgs/${tessera.orgId}/sessions`, { token: adminToken });
    for (const route of routes) {
      assertProblem(await call(route, { token: otherOrgToken }), 403, "forbidden");
    }
    const sessionsAfter = await tessera.request(`/admin/orgs/${tessera.orgId}/sessions`, { token: adminToken });
    assert.deepEqual(sessionsAfter.body, sessionsBefore.body);
    assert.equal((await tessera.request("/user/users/me", { token: member.token })).status, 200);
  });

  it("answers 400 invalid_id to a non-numeric, zero or negative org id on every route", async () => {
    for (const route of routes) {
      for (const badId of ["abc", "0", "-1", "1.5", "1e3"]) {
        assertProblem(await call(route, { token: adminToken }, badId), 400, "invalid_id");
      }
    }
  });

  it("answers 400 invalid_id to a non-numeric sub-resource id", async () => {
    for (const route of routes.filter((candidate) => candidate.path(1, "{id}").includes("{id}"))) {
      const body = route.body?.();
      const response = await tessera.request(route.path(tessera.orgId, "x1"), {
        method: route.method,
        token: adminToken,
        ...(body === undefined ? {} : { body }),
      });
      assertProblem(response, 400, "invalid_id");
    }
  });

  it("documents every admin route in /openapi.json with tags, summary, security and responses", async () => {
    const document = (await tessera.request("/openapi.json")).body;
    const paths = routes.map((route) => [route.method.toLowerCase(), route.path("{orgId}", "{id}")] as const);
    paths.push(["post", "/admin/orgs"]);
    for (const [method, path] of paths) {
      const openApiPath = path
        .replace("/sessions/{id}", "/sessions/{sessionId}")
        .replace("/users/{id}", "/users/{userId}");
      const operation = document.paths[openApiPath]?.[method];
      assert.ok(operation, `${method} ${openApiPath} is documented`);
      assert.ok(operation.tags?.length > 0 && operation.summary, `${method} ${openApiPath} has tags and a summary`);
      assert.deepEqual(operation.security, [{ bearerAuth: [] }, { apiKey: [] }]);
      assert.ok(Object.keys(operation.responses).some((status) => status.startsWith("2")));
    }
  });

  it("tags every admin route of the OpenAPI document in one spelling, Administration: <area>", async () => {
    const document = (await tessera.request("/openapi.json")).body;
    const operations = Object.entries(document.paths as Record<string, Record<string, { tags: string[] }>>)
      .filter(([path]) => path.startsWith("/admin/"))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
      );
    assert.ok(operations.length >= 27, `${operations.length} admin operations`);
    for (const { path, method, operation } of operations) {
      for (const tag of operation.tags) assert.match(tag, /^Administration: \S/, `${method} ${path}`);
    }
  });
});
