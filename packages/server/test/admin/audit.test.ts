import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  addMemberWithSession,
  addUser,
  assertProblem,
  createApiKey,
  createSecondOrg,
} from "@tessera/test-kit/admin.ts";
import { memberPassword } from "@tessera/test-kit/fixtures.ts";
import { adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("GET /admin/orgs/{orgId}/audit", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let adminUserId: number;
  let auditPath: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    adminUserId = (await tessera.request("/user/users/me", { token: adminToken })).body.id;
    auditPath = `/admin/orgs/${tessera.orgId}/audit`;
  });
  after(() => tessera.close());

  it("records every admin action with its type, actor and subject, newest last", async () => {
    const orgPath = `/admin/orgs/${tessera.orgId}`;
    const first = (await tessera.request(`${auditPath}?limit=1000`, { token: adminToken })).body.at(-1).id;
    const user = await addUser(tessera, adminToken, { role: "member" });
    const apiKey = await createApiKey(tessera, adminToken, user.orgUserId);
    await tessera.request(`${orgPath}/users/${user.id}`, {
      method: "PATCH",
      token: adminToken,
      body: { role: "admin" },
    });
    const passwordPolicy = (await tessera.request(`${orgPath}/password-policy`, { token: adminToken })).body;
    await tessera.request(`${orgPath}/password-policy`, { method: "PUT", token: adminToken, body: passwordPolicy });
    const sessionPolicy = (await tessera.request(`${orgPath}/session-policy`, { token: adminToken })).body;
    await tessera.request(`${orgPath}/session-policy`, { method: "PUT", token: adminToken, body: sessionPolicy });
    const keyId = (await tessera.request(`${orgPath}/api-keys`, { token: adminToken })).body[0].id;
    await tessera.request(`${orgPath}/api-keys/${keyId}`, { method: "DELETE", token: adminToken });
    const userToken = await tessera.login(user.email, memberPassword);
    await tessera.request(`${orgPath}/users/${user.id}/sessions`, { method: "DELETE", token: adminToken });

    const response = await tessera.request(`${auditPath}?after=${first}`, { token: adminToken });
    assert.equal(response.status, 200);
    const events = response.body;
    assert.deepEqual(Object.keys(events[0]).sort(), [
      "actorUserId",
      "createdAt",
      "data",
      "id",
      "ip",
      "orgId",
      "subjectUserId",
      "type",
    ]);
    const summary = events.map((event: { type: string; actorUserId: number | null; subjectUserId: number | null }) => [
      event.type,
      event.actorUserId,
      event.subjectUserId,
    ]);
    assert.deepEqual(summary, [
      ["user.created", adminUserId, user.id],
      ["api_key.created", adminUserId, user.id],
      ["membership.updated", adminUserId, user.id],
      ["password_policy.updated", adminUserId, null],
      ["session_policy.updated", adminUserId, null],
      ["api_key.revoked", adminUserId, user.id],
      ["session.created", user.id, user.id],
      ["session.revoked", adminUserId, user.id],
    ]);
    const ids = events.map((event: { id: number }) => event.id);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.ok(events.every((event: { orgId: number; ip: string }) => event.orgId === tessera.orgId && event.ip));
    assert.equal(events[0].createdAt, tessera.clock.now());
    for (const secret of [apiKey, userToken, adminToken, adminPassword]) assert.ok(!response.text.includes(secret));
  });

  it("pages with after and limit: default 100, at most 1000", async () => {
    const all = (await tessera.request(`${auditPath}?limit=1000`, { token: adminToken })).body;
    assert.ok(all.length >= 3);
    const page = await tessera.request(`${auditPath}?after=${all[0].id}&limit=2`, { token: adminToken });
    assert.deepEqual(
      page.body.map((event: { id: number }) => event.id),
      [all[1].id, all[2].id],
    );
    const tail = await tessera.request(`${auditPath}?after=${all.at(-1).id}`, { token: adminToken });
    assert.deepEqual(tail.body, []);

    // Each policy update is one event: enough of them to pass the default page size.
    const policyPath = `/admin/orgs/${tessera.orgId}/session-policy`;
    const policy = (await tessera.request(policyPath, { token: adminToken })).body;
    for (let written = all.length; written <= 100; written++) {
      await tessera.request(policyPath, { method: "PUT", token: adminToken, body: policy });
    }
    const firstPage = (await tessera.request(auditPath, { token: adminToken })).body;
    assert.equal(firstPage.length, 100);
    assert.equal(firstPage[0].id, all[0].id);
    assert.ok((await tessera.request(`${auditPath}?limit=1000`, { token: adminToken })).body.length > 100);
  });

  it("answers 400 invalid_request to bad paging parameters", async () => {
    for (const query of ["?limit=0", "?limit=1001", "?limit=abc", "?after=-1", "?after=x", "?since=1"]) {
      assertProblem(await tessera.request(auditPath + query, { token: adminToken }), 400, "invalid_request");
    }
  });

  it("shows only the org's own events, to auditors too, and never to members", async () => {
    const other = await createSecondOrg(tessera, adminToken);
    await addUser(tessera, other.token, { role: "member", email: "only-in-other@example.com" }, other.orgId);
    const auditor = await addMemberWithSession(tessera, adminToken, "auditor");
    const response = await tessera.request(`${auditPath}?limit=1000`, { token: auditor.token });
    assert.equal(response.status, 200);
    assert.ok(response.body.every((event: { orgId: number }) => event.orgId === tessera.orgId));
    assert.ok(!response.text.includes("only-in-other@example.com"));
    const member = await addMemberWithSession(tessera, adminToken, "member");
    assertProblem(await tessera.request(auditPath, { token: member.token }), 403, "forbidden");
  });
});
