import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, auditEvents } from "@tessera/test-kit/admin.ts";
import { countRows } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("POST /admin/orgs", () => {
  let tessera: TestInstance;
  let adminToken: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
  });
  after(() => tessera.close());

  it("lets a system admin create an org and makes it that org's owner", async () => {
    const response = await tessera.request("/admin/orgs", { token: adminToken, body: { name: "Acme" } });
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(Object.keys(response.body).sort(), ["id", "name"]);
    assert.equal(response.body.name, "Acme");
    assert.ok(Number.isInteger(response.body.id) && response.body.id !== tessera.orgId);

    const acmeToken = await tessera.login(undefined, undefined, response.body.id);
    const users = await tessera.request(`/admin/orgs/${response.body.id}/users`, { token: acmeToken });
    assert.equal(users.status, 200);
    assert.equal(users.body.length, 1);
    assert.equal(users.body[0].email, adminEmail);
    assert.equal(users.body[0].role, "owner");
    assert.equal(users.body[0].active, true);

    const orgs = await tessera.request("/user/orgs", { token: adminToken });
    assert.deepEqual(
      orgs.body.map((org: { name: string; role: string }) => [org.name, org.role]),
      [
        ["Default", "owner"],
        ["Acme", "owner"],
      ],
    );
  });

  it("records org.created and the owner's membership in the new org's audit log", async () => {
    const created = await tessera.request("/admin/orgs", { token: adminToken, body: { name: "Audited" } });
    const token = await tessera.login(undefined, undefined, created.body.id);
    const me = await tessera.request("/user/users/me", { token });
    const events = await auditEvents(tessera, token, created.body.id);
    const orgCreated = events.find((event) => event.type === "org.created");
    assert.equal(orgCreated?.actorUserId, me.body.id);
    assert.equal(orgCreated?.data.name, "Audited");
    const membership = events.find((event) => event.type === "membership.created");
    assert.equal(membership?.subjectUserId, me.body.id);
    assert.equal(membership?.data.role, "owner");
  });

  it("answers 409 conflict to a duplicate name and creates nothing", async () => {
    const before = await countRows(tessera);
    assertProblem(
      await tessera.request("/admin/orgs", { token: adminToken, body: { name: "Default" } }),
      409,
      "conflict",
    );
    assert.deepEqual(await countRows(tessera), before);
  });

  it("answers 403 forbidden to an owner who is not a system admin", async () => {
    const owner = await addMemberWithSession(tessera, adminToken, "owner");
    const before = await countRows(tessera);
    assertProblem(
      await tessera.request("/admin/orgs", { token: owner.token, body: { name: "Nope" } }),
      403,
      "forbidden",
    );
    assert.deepEqual(await countRows(tessera), before);
  });

  it("answers 401 invalid_token without a token", async () => {
    assertProblem(await tessera.request("/admin/orgs", { body: { name: "Anonymous" } }), 401, "invalid_token");
  });

  it("answers 400 invalid_request to unknown fields, wrong types, a missing or blank name", async () => {
    const before = await countRows(tessera);
    for (const body of [{ name: "X", extra: 1 }, { name: 42 }, {}, { name: "" }, { name: "   " }, ["X"]]) {
      assertProblem(await tessera.request("/admin/orgs", { token: adminToken, body }), 400, "invalid_request");
    }
    assertProblem(
      await tessera.request("/admin/orgs", { token: adminToken, rawBody: '{"name":' }),
      400,
      "malformed_json",
    );
    assert.deepEqual(await countRows(tessera), before);
  });
});
