import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMembership, auditEventsOfType, createMember, createOrg } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("POST /user/password ends the account's sessions", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("revokes every session of the account in every org (renewal too), audited password_changed", async () => {
    const otherOrg = await createOrg(tessera);
    const member = await createMember(tessera);
    await addMembership(tessera, { orgId: otherOrg, userId: member.userId });
    const first = await tessera.login(member.email, member.password, tessera.orgId);
    const second = await tessera.login(member.email, member.password, tessera.orgId);
    const elsewhere = await tessera.login(member.email, member.password, otherOrg);
    const bystander = await createMember(tessera);
    const bystanderToken = await tessera.login(bystander.email, bystander.password);

    const changed = await tessera.request("/user/password", {
      body: {
        email: member.email,
        currentPassword: member.password,
        newPassword: "a brand new password for all orgs",
        selectedOrg: tessera.orgId,
      },
    });
    assert.equal(changed.status, 204, changed.text);

    for (const token of [first, second, elsewhere]) {
      assert.equal((await tessera.request("/user/users/me", { token })).status, 401);
      assert.equal((await tessera.request("/user/authenticate", { token })).status, 401);
    }
    assert.equal((await tessera.request("/user/users/me", { token: bystanderToken })).status, 200);
    const revoked = (await auditEventsOfType(tessera, "session.revoked")).filter(
      (event) => event.subject_user_id === member.userId,
    );
    assert.equal(revoked.length, 3);
    assert.ok(revoked.every((event) => event.data.reason === "password_changed"));
    assert.deepEqual(revoked.map((event) => event.org_id).sort(), [tessera.orgId, tessera.orgId, otherOrg].sort());
    const fresh = await tessera.login(member.email, "a brand new password for all orgs", otherOrg);
    assert.equal((await tessera.request("/user/users/me", { token: fresh })).status, 200);
  });
});
