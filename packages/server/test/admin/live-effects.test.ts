import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, createApiKey } from "@tessera/test-kit/admin.ts";
import { memberPassword } from "@tessera/test-kit/fixtures.ts";
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

    // Reactivation restores the API key (an integration's configuration) but not the old
    // session, which was revoked with the deactivation.
    assert.equal((await patch(member.id, { active: true })).status, 200);
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
    assertProblem(await tessera.request("/user/users/me", { token: member.token }), 401, "invalid_token");
    await tessera.login(member.email, memberPassword);
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
