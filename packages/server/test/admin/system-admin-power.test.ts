import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertProblem, createApiKey, createSecondOrg } from "@tessera/test-kit/admin.ts";
import { countRows, createMember } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/**
 * System-admin power comes only with a user session of a system admin: an API key acting as a
 * system admin's membership carries that membership's org role and nothing more.
 */
describe("system-admin actions", () => {
  let tessera: TestInstance;
  let adminToken: string;
  /** A key for the system admin's membership in a second org, created by that org's other owner. */
  let keyFromOtherOwner: string;
  /** A key the system admin created for its own membership in the bootstrap org. */
  let ownKey: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    const second = await createSecondOrg(tessera, adminToken);
    const owner = await createMember(tessera, { orgId: second.orgId, role: "owner" });
    const ownerToken = await tessera.login(owner.email, owner.password, second.orgId);
    const adminMembership = await tessera.ctx.db
      .selectFrom("memberships as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select("m.id")
      .where("u.email", "=", adminEmail)
      .where("m.org_id", "=", second.orgId)
      .executeTakeFirstOrThrow();
    keyFromOtherOwner = await createApiKey(tessera, ownerToken, adminMembership.id);
    const ownMembership = await tessera.ctx.db
      .selectFrom("memberships as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select("m.id")
      .where("u.email", "=", adminEmail)
      .where("m.org_id", "=", tessera.orgId)
      .executeTakeFirstOrThrow();
    ownKey = await createApiKey(tessera, adminToken, ownMembership.id);
  });
  after(() => tessera.close());

  for (const [label, key] of [
    ["another owner's key for the system admin's membership", () => keyFromOtherOwner],
    ["the system admin's own key", () => ownKey],
  ] as const) {
    it(`refuses POST /admin/orgs with ${label} (403 forbidden, nothing created)`, async () => {
      const before = await countRows(tessera);
      assertProblem(
        await tessera.request("/admin/orgs", { apiKey: key(), body: { name: `Key org ${label}` } }),
        403,
        "forbidden",
      );
      assert.deepEqual(await countRows(tessera), before);
    });

    it(`refuses POST /admin/signing-keys/rotate with ${label} (403 forbidden, nothing rotated)`, async () => {
      const before = await countRows(tessera);
      assertProblem(
        await tessera.request("/admin/signing-keys/rotate", { method: "POST", apiKey: key() }),
        403,
        "forbidden",
      );
      assert.deepEqual(await countRows(tessera), before);
    });
  }

  it("still lets the system admin's user session create an org and rotate the signing key", async () => {
    const created = await tessera.request("/admin/orgs", { token: adminToken, body: { name: "Made with a session" } });
    assert.equal(created.status, 201, created.text);
    const rotated = await tessera.request("/admin/signing-keys/rotate", { method: "POST", token: adminToken });
    assert.equal(rotated.status, 200, rotated.text);
  });

  it("keeps the key's org role: the system admin's own key still acts as an owner in its org", async () => {
    const users = await tessera.request(`/admin/orgs/${tessera.orgId}/users`, { apiKey: ownKey });
    assert.equal(users.status, 200, users.text);
  });
});
