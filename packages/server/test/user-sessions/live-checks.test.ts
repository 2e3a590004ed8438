import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  createMember,
  type FixtureMember,
  revokeUserSessions,
  setMembershipActive,
  setMembershipRole,
  setUserActive,
} from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/** contract §2: every request re-checks user, membership and role from current data. */
describe("live checks on the next request", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  const sessionOf = async (member: FixtureMember) => {
    const token = await tessera.login(member.email, member.password, member.orgId);
    assert.equal((await tessera.request("/user/users/me", { token })).status, 200);
    return token;
  };
  const assertDead = async (token: string) => {
    for (const [method, path] of [
      ["GET", "/user/users/me"],
      ["GET", "/user/orgs"],
      ["GET", "/user/authenticate"],
    ] as const) {
      const response = await tessera.request(path, { method, token });
      assert.equal(response.status, 401, `${method} ${path}`);
      assert.equal(response.body.code, "invalid_token");
    }
  };

  it("deactivating the user kills its session", async () => {
    const member = await createMember(tessera);
    const token = await sessionOf(member);
    await setUserActive(tessera, member.userId, false);
    await assertDead(token);
  });

  it("deactivating the membership kills the session in that org", async () => {
    const member = await createMember(tessera);
    const token = await sessionOf(member);
    await setMembershipActive(tessera, member.membershipId, false);
    await assertDead(token);
  });

  it("demoting an owner to member takes its admin rights away", async () => {
    const owner = await createMember(tessera, { role: "owner" });
    const member = await createMember(tessera);
    const token = await sessionOf(owner);
    const create = () =>
      tessera.request("/user/apiKey", { token, body: { orgUserId: member.membershipId, name: "x" } });
    assert.equal((await create()).status, 200);
    await setMembershipRole(tessera, owner.membershipId, "member");
    const response = await create();
    assert.equal(response.status, 403);
    assert.equal(response.body.code, "forbidden");
    const me = await tessera.request("/user/users/me", { token });
    assert.equal(me.body.role, "member");
    assert.deepEqual(me.body.permissions, ["self:read", "self:write"]);
  });

  it("revoking the session kills it, and its renewed successor too", async () => {
    const member = await createMember(tessera);
    const token = await sessionOf(member);
    const successor = (await tessera.request("/user/authenticate", { token })).body.token as string;
    await revokeUserSessions(tessera, member.userId);
    await assertDead(token);
    await assertDead(successor);
  });
});
