import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { rolePermissions } from "@tessera/protocol";
import { addMembership, createMember, createOrg, setPasswordPolicy } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("GET /user/users/me and GET /user/orgs", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("describes the caller: current org, role, permissions and the session's expiry", async () => {
    const login = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: "correct horse battery staple", selectedOrg: tessera.orgId },
    });
    const response = await tessera.request("/user/users/me", { token: login.body.token });
    assert.equal(response.status, 200);
    assert.equal(response.body.id, login.body.userId);
    assert.equal(response.body.email, adminEmail);
    assert.equal(response.body.kind, "person");
    assert.deepEqual(response.body.currentOrg, { id: tessera.orgId, name: "Default" });
    assert.equal(response.body.role, "owner");
    assert.deepEqual(response.body.permissions, [...rolePermissions.owner]);
    assert.equal(response.body.authenticatedWith, "session");
    assert.equal(response.body.sessionExpiresAt, login.body.expiresAt);
    assert.equal(response.body.passwordExpiresAt, null);
    assert.equal(typeof response.body.orgUserId, "number");
  });

  it("shows a member's narrower rights and the password's expiry under the org's policy", async () => {
    const org = await createOrg(tessera, "Expiring passwords");
    await setPasswordPolicy(tessera, org, { maxAgeDays: 10 });
    const member = await createMember(tessera, { orgId: org, role: "auditor" });
    const token = await tessera.login(member.email, member.password, org);
    const response = await tessera.request("/user/users/me", { token });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.currentOrg, { id: org, name: "Expiring passwords" });
    assert.equal(response.body.role, "auditor");
    assert.equal(response.body.orgUserId, member.membershipId);
    assert.deepEqual(response.body.permissions, [...rolePermissions.auditor]);
    assert.equal(response.body.passwordExpiresAt, Math.floor(tessera.clock.now() / 1000) + 10 * 86_400);
  });

  it("lists the orgs the caller is an active member of, with its role in each", async () => {
    const member = await createMember(tessera);
    const second = await createOrg(tessera, "Second org");
    const inactive = await createOrg(tessera, "Left org");
    await addMembership(tessera, { orgId: second, userId: member.userId, role: "admin" });
    await addMembership(tessera, { orgId: inactive, userId: member.userId, active: false });
    const token = await tessera.login(member.email, member.password, tessera.orgId);
    const response = await tessera.request("/user/orgs", { token });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, [
      { id: tessera.orgId, name: "Default", role: "member" },
      { id: second, name: "Second org", role: "admin" },
    ]);
  });

  it("needs a live token", async () => {
    for (const path of ["/user/users/me", "/user/orgs"]) {
      const response = await tessera.request(path);
      assert.equal(response.status, 401, path);
      assert.equal(response.body.code, "invalid_token");
      assert.equal(response.headers.get("www-authenticate"), 'Bearer realm="tessera"');
    }
  });
});
