import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, auditEvents, createSecondOrg } from "@tessera/test-kit/admin.ts";
import { memberPassword } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
type Listed = any;

describe("admin sessions", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let adminUserId: number;
  let sessionsPath: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    adminUserId = (await tessera.request("/user/users/me", { token: adminToken })).body.id;
    sessionsPath = `/admin/orgs/${tessera.orgId}/sessions`;
  });
  after(() => tessera.close());

  async function listSessions(query = ""): Promise<Listed[]> {
    const response = await tessera.request(sessionsPath + query, { token: adminToken });
    assert.equal(response.status, 200, response.text);
    return response.body;
  }

  async function isAlive(token: string): Promise<boolean> {
    const status = (await tessera.request("/user/users/me", { token })).status;
    assert.ok(status === 200 || status === 401, `unexpected ${status}`);
    return status === 200;
  }

  it("lists live sessions with user, times in Unix seconds, and filters by userId", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const all = await listSessions();
    const mine = all.find((session) => session.userId === member.id);
    assert.deepEqual(Object.keys(mine).sort(), [
      "absoluteExpiresAt",
      "createdAt",
      "email",
      "expiresAt",
      "id",
      "kind",
      "orgUserId",
      "userId",
    ]);
    assert.equal(mine.kind, "user");
    assert.equal(mine.email, member.email);
    assert.equal(mine.orgUserId, member.orgUserId);
    const nowSeconds = Math.floor(tessera.clock.now() / 1000);
    assert.equal(mine.createdAt, nowSeconds);
    assert.equal(mine.expiresAt, nowSeconds + 900);
    assert.equal(mine.absoluteExpiresAt, nowSeconds + 43200);
    assert.ok(all.some((session) => session.userId === adminUserId));

    const filtered = await listSessions(`?userId=${member.id}`);
    assert.deepEqual(filtered, [mine]);
    assert.deepEqual(await listSessions("?userId=999999"), []);
  });

  it("omits revoked and expired sessions", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const second = await tessera.login(member.email, memberPassword);
    assert.equal((await listSessions(`?userId=${member.id}`)).length, 2);
    await tessera.request("/user/authenticate", { method: "DELETE", token: second });
    assert.equal((await listSessions(`?userId=${member.id}`)).length, 1);

    // Keep the admin alive across the idle window; the member's session lapses.
    await tessera.clock.advanceSeconds(600);
    const renewed = await tessera.request("/user/authenticate", { token: adminToken });
    adminToken = renewed.body.token;
    await tessera.clock.advanceSeconds(301);
    assert.deepEqual(await listSessions(`?userId=${member.id}`), []);
  });

  it("answers 400 to a bad userId filter or an unknown query parameter", async () => {
    for (const query of ["?userId=abc", "?userId=0", "?user=1"]) {
      assertProblem(await tessera.request(sessionsPath + query, { token: adminToken }), 400, "invalid_request");
    }
  });

  it("revokes one session: its token answers 401 on the next request, other sessions live on", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const other = await tessera.login(member.email, memberPassword);
    const [target] = await listSessions(`?userId=${member.id}`);
    const response = await tessera.request(`${sessionsPath}/${target.id}`, { method: "DELETE", token: adminToken });
    assert.equal(response.status, 204);
    assert.equal(response.text, "");
    assertProblem(await tessera.request("/user/users/me", { token: member.token }), 401, "invalid_token");
    assert.equal(await isAlive(other), true);

    const revoked = (await auditEvents(tessera, adminToken)).findLast((event) => event.type === "session.revoked");
    assert.equal(revoked?.actorUserId, adminUserId);
    assert.equal(revoked?.subjectUserId, member.id);
    assert.deepEqual(revoked?.data, { sessionId: target.id, reason: "admin" });
  });

  it("answers 404 not_found to an unknown, already revoked, or other org's session", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const [session] = await listSessions(`?userId=${member.id}`);
    await tessera.request(`${sessionsPath}/${session.id}`, { method: "DELETE", token: adminToken });
    const otherOrg = await createSecondOrg(tessera, adminToken);
    const otherSessions = await tessera.request(`/admin/orgs/${otherOrg.orgId}/sessions`, { token: otherOrg.token });
    const foreign = otherSessions.body[0].id;
    for (const id of [999999, session.id, foreign]) {
      assertProblem(
        await tessera.request(`${sessionsPath}/${id}`, { method: "DELETE", token: adminToken }),
        404,
        "not_found",
      );
    }
    assert.equal(await isAlive(otherOrg.token), true);
  });

  it("revokes every session of one user, and nobody else's", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const second = await tessera.login(member.email, memberPassword);
    const bystander = await addMemberWithSession(tessera, adminToken, "member");
    const response = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${member.id}/sessions`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(response.status, 204);
    assert.equal(await isAlive(member.token), false);
    assert.equal(await isAlive(second), false);
    assert.equal(await isAlive(bystander.token), true);
    assert.deepEqual(await listSessions(`?userId=${member.id}`), []);
  });

  it("answers 404 not_found when revoking the sessions of a user who is not a member", async () => {
    assertProblem(
      await tessera.request(`/admin/orgs/${tessera.orgId}/users/999999/sessions`, {
        method: "DELETE",
        token: adminToken,
      }),
      404,
      "not_found",
    );
  });

  it("lets an auditor list sessions but not revoke them", async () => {
    const auditor = await addMemberWithSession(tessera, adminToken, "auditor");
    const listed = await tessera.request(sessionsPath, { token: auditor.token });
    assert.equal(listed.status, 200);
    const own = listed.body.find((session: Listed) => session.userId === auditor.id);
    assertProblem(
      await tessera.request(`${sessionsPath}/${own.id}`, { method: "DELETE", token: auditor.token }),
      403,
      "forbidden",
    );
    assert.equal(await isAlive(auditor.token), true);
  });

  it("revokes every session of the org, the caller's own included, and no other org's", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const otherOrg = await createSecondOrg(tessera, adminToken);
    const response = await tessera.request(sessionsPath, { method: "DELETE", token: adminToken });
    assert.equal(response.status, 204);
    assert.equal(await isAlive(member.token), false);
    assert.equal(await isAlive(adminToken), false);
    assert.equal(await isAlive(otherOrg.token), true);
    adminToken = await tessera.login();
    assert.deepEqual(
      (await listSessions()).map((session) => session.userId),
      [adminUserId],
    );
  });
});
