import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createApiKey } from "@tessera/test-kit/admin.ts";
import { addMembership, countAudit, createMember, memberPassword } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
type Listed = any;

/** ASVS 3.3.4: a person sees its live sessions and can end them, one or all but the current one. */
describe("a person's own sessions", () => {
  let tessera: TestInstance;
  let adminToken: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
  });
  after(() => tessera.close());

  async function isAlive(token: string): Promise<boolean> {
    const status = (await tessera.request("/user/users/me", { token })).status;
    assert.ok(status === 200 || status === 401, `unexpected ${status}`);
    return status === 200;
  }

  async function listOwn(token: string): Promise<Listed[]> {
    const response = await tessera.request("/user/sessions", { token });
    assert.equal(response.status, 200, response.text);
    return response.body;
  }

  it("lists the caller's live sessions, in every org, the current one marked, nobody else's", async () => {
    const member = await createMember(tessera);
    const otherOrg = (await tessera.request("/admin/orgs", { token: adminToken, body: { name: "Elsewhere" } })).body
      .id as number;
    await addMembership(tessera, { orgId: otherOrg, userId: member.userId });
    const first = await tessera.login(member.email, memberPassword, tessera.orgId);
    const second = await tessera.login(member.email, memberPassword, tessera.orgId);
    const third = await tessera.login(member.email, memberPassword, otherOrg);
    await tessera
      .login(member.email, memberPassword, tessera.orgId)
      .then((token) => tessera.request("/user/authenticate", { method: "DELETE", token }));

    const listed = await listOwn(first);
    assert.equal(listed.length, 3);
    for (const session of listed) {
      assert.deepEqual(Object.keys(session).sort(), ["createdAt", "current", "expiresAt", "id", "kind", "orgId"]);
      assert.equal(session.kind, "user");
    }
    const nowSeconds = Math.floor(tessera.clock.now() / 1000);
    assert.deepEqual(
      listed.map((session) => [session.orgId, session.current, session.createdAt, session.expiresAt]),
      [
        [tessera.orgId, true, nowSeconds, nowSeconds + 900],
        [tessera.orgId, false, nowSeconds, nowSeconds + 900],
        [otherOrg, false, nowSeconds, nowSeconds + 900],
      ],
    );
    // The same list from another of its sessions marks that one current.
    assert.deepEqual(
      (await listOwn(third)).map((session) => session.current),
      [false, false, true],
    );
    assert.ok(!(await listOwn(adminToken)).some((session) => listed.some((mine) => mine.id === session.id)));
    assert.equal(await isAlive(second), true);
  });

  it("ends one of its sessions with DELETE /user/sessions/{id}, and answers 404 for anyone else's", async () => {
    const member = await createMember(tessera);
    const here = await tessera.login(member.email, memberPassword);
    const there = await tessera.login(member.email, memberPassword);
    const [, target] = await listOwn(here);
    const adminSession = (await listOwn(adminToken))[0];
    const revokedBefore = await countAudit(tessera, "session.revoked");

    for (const id of [adminSession.id, 999999]) {
      const refused = await tessera.request(`/user/sessions/${id}`, { method: "DELETE", token: here });
      assert.equal(refused.status, 404, refused.text);
      assert.equal(refused.body.code, "not_found");
    }
    assert.equal(await isAlive(adminToken), true);
    assert.equal(await countAudit(tessera, "session.revoked"), revokedBefore);

    const ended = await tessera.request(`/user/sessions/${target.id}`, { method: "DELETE", token: here });
    assert.equal(ended.status, 204, ended.text);
    assert.equal(await isAlive(there), false);
    assert.equal(await isAlive(here), true);
    assert.equal(await countAudit(tessera, "session.revoked"), revokedBefore + 1);
    const again = await tessera.request(`/user/sessions/${target.id}`, { method: "DELETE", token: here });
    assert.equal(again.status, 404);
  });

  it("logs out every other device with POST /user/sessions/revoke-others, keeping the current one", async () => {
    const member = await createMember(tessera);
    const here = await tessera.login(member.email, memberPassword);
    const others = [
      await tessera.login(member.email, memberPassword),
      await tessera.login(member.email, memberPassword),
    ];
    const response = await tessera.request("/user/sessions/revoke-others", { method: "POST", token: here });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body, { revoked: 2 });
    assert.equal(await isAlive(here), true);
    for (const token of others) assert.equal(await isAlive(token), false);
    assert.equal(await isAlive(adminToken), true);
    assert.equal((await listOwn(here)).length, 1);
  });

  it("refuses API keys (they have no session of their own), and a missing token", async () => {
    const member = await createMember(tessera);
    const apiKey = await createApiKey(tessera, adminToken, member.membershipId);
    for (const [method, path] of [
      ["GET", "/user/sessions"],
      ["POST", "/user/sessions/revoke-others"],
      ["DELETE", "/user/sessions/1"],
    ] as const) {
      const withKey = await tessera.request(path, { method, apiKey });
      assert.equal(withKey.status, 400, `${method} ${path}: ${withKey.text}`);
      assert.equal(withKey.body.code, "invalid_request");
      const anonymous = await tessera.request(path, { method });
      assert.equal(anonymous.status, 401, `${method} ${path}: ${anonymous.text}`);
    }
  });
});
