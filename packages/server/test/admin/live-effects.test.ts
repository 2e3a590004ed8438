import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, createApiKey } from "@tessera/test-kit/admin.ts";
import { auditEventsOfType, memberPassword } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/** contract §2: a demotion, deactivation or revocation is felt on the next request, not at expiry. */
describe("admin changes felt on the next request", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let usersPath: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    usersPath = `/admin/orgs/${tessera.orgId}/users`;
  });
  after(() => tessera.close());

  const patch = (userId: number, body: unknown) =>
    tessera.request(`${usersPath}/${userId}`, { method: "PATCH", token: adminToken, body });

  it("demoting an admin to member turns their live token's next admin call into 403", async () => {
    const admin = await addMemberWithSession(tessera, adminToken, "admin");
    assert.equal((await tessera.request(usersPath, { token: admin.token })).status, 200);
    assert.equal((await patch(admin.id, { role: "member" })).status, 200);
    assertProblem(await tessera.request(usersPath, { token: admin.token }), 403, "forbidden");
    const me = await tessera.request("/user/users/me", { token: admin.token });
    assert.equal(me.status, 200, "the session itself lives on");
    assert.equal(me.body.role, "member");
  });

  it("deactivating a membership makes the user's token and API key answer 401", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const apiKey = await createApiKey(tessera, adminToken, member.orgUserId);
    assert.equal((await tessera.request("/user/users/me", { token: member.token })).status, 200);
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);

    assert.equal((await patch(member.id, { active: false })).status, 200);
    assertProblem(await tessera.request("/user/users/me", { token: member.token }), 401, "invalid_token");
    assertProblem(await tessera.request("/user/users/me", { apiKey }), 401, "invalid_token");
    assertProblem(
      await tessera.request("/user/authenticate", {
        body: { email: member.email, password: memberPassword, selectedOrg: tessera.orgId },
      }),
      404,
      "no_active_org",
    );

    // Reactivation brings back neither the old session nor the API key: both were revoked with
    // the deactivation, the key for good (revoked, off the list, audited).
    assert.equal((await patch(member.id, { active: true })).status, 200);
    assertProblem(await tessera.request("/user/users/me", { apiKey }), 401, "invalid_token");
    assertProblem(await tessera.request("/user/users/me", { token: member.token }), 401, "invalid_token");
    await tessera.login(member.email, memberPassword);
    const keys = await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys`, { token: adminToken });
    assert.equal(
      keys.body.some((key: { orgUserId: number }) => key.orgUserId === member.orgUserId),
      false,
    );
    const stored = await tessera.ctx.db
      .selectFrom("api_keys")
      .select(["id", "revoked_at"])
      .where("membership_id", "=", member.orgUserId)
      .executeTakeFirstOrThrow();
    assert.notEqual(stored.revoked_at, null);
    const revoked = (await auditEventsOfType(tessera, "api_key.revoked")).filter(
      (event) => event.data.apiKeyId === stored.id,
    );
    assert.equal(revoked.length, 1);
    assert.equal(revoked[0]?.subject_user_id, member.id);
    assert.equal(revoked[0]?.data.reason, "membership_deactivated");
  });

  it("an API key acts with its member's current rights: promotion grants, demotion takes away", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const apiKey = await createApiKey(tessera, adminToken, member.orgUserId);
    assertProblem(await tessera.request(usersPath, { apiKey }), 403, "forbidden");

    await patch(member.id, { role: "auditor" });
    assert.equal((await tessera.request(usersPath, { apiKey })).status, 200);
    assertProblem(await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys`, { apiKey }), 403, "forbidden");

    await patch(member.id, { role: "admin" });
    assert.equal((await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys`, { apiKey })).status, 200);

    await patch(member.id, { role: "member" });
    assertProblem(await tessera.request(usersPath, { apiKey }), 403, "forbidden");
    assertProblem(await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys`, { apiKey }), 403, "forbidden");
  });
});
