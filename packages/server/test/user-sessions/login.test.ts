import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  addMembership,
  countRows,
  createMember,
  createOrg,
  createPerson,
  setMembershipActive,
  setUserActive,
} from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("POST /user/authenticate", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("returns a 15-minute bearer token for the org", async () => {
    const response = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: adminPassword, selectedOrg: tessera.orgId },
    });
    assert.equal(response.status, 200);
    assert.match(response.body.token, /^tsu_[A-Za-z0-9_-]{43}$/);
    assert.equal(response.body.tokenType, "Bearer");
    assert.equal(response.body.expiresIn, 900);
    // Unix seconds, as clients of the user-session API compare it.
    assert.equal(response.body.expiresAt, Math.floor(tessera.clock.now() / 1000) + 900);
    assert.equal(response.body.orgId, tessera.orgId);
    const admin = await tessera.ctx.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", adminEmail)
      .executeTakeFirstOrThrow();
    assert.equal(response.body.userId, admin.id);
    assert.deepEqual(Object.keys(response.body).sort(), [
      "expiresAt",
      "expiresIn",
      "orgId",
      "token",
      "tokenType",
      "userId",
    ]);
  });

  it("answers a wrong password with 401 invalid_credentials as problem+json with a Bearer challenge", async () => {
    const response = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: "not the password", selectedOrg: tessera.orgId },
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
    assert.equal(response.body.code, "invalid_credentials");
    assert.equal(response.body.status, 401);
    assert.equal(response.body.type, "urn:tessera:problem:invalid_credentials");
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer /);
  });

  it("treats the email case-insensitively", async () => {
    const member = await createMember(tessera, { email: "Mixed.Case@Example.com" });
    const response = await tessera.request("/user/authenticate", {
      body: { email: "MIXED.case@example.COM", password: member.password, selectedOrg: tessera.orgId },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.userId, member.userId);
  });

  it("accepts an omitted or null selectedOrg when the user is active in exactly one org", async () => {
    const member = await createMember(tessera);
    const omitted = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: member.password },
    });
    assert.equal(omitted.status, 200);
    assert.equal(omitted.body.orgId, tessera.orgId);
    const asNull = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: member.password, selectedOrg: null },
    });
    assert.equal(asNull.status, 200);
    assert.equal(asNull.body.orgId, tessera.orgId);
  });

  it("ignores inactive memberships when deciding that the user has exactly one org", async () => {
    const member = await createMember(tessera);
    const otherOrg = await createOrg(tessera);
    await addMembership(tessera, { orgId: otherOrg, userId: member.userId, active: false });
    const response = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: member.password },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.orgId, tessera.orgId);
  });

  describe("a user active in several orgs", () => {
    let user: Awaited<ReturnType<typeof createPerson>>;
    let secondOrg: number;
    before(async () => {
      user = await createPerson(tessera);
      secondOrg = await createOrg(tessera);
      await addMembership(tessera, { orgId: tessera.orgId, userId: user.userId });
      await addMembership(tessera, { orgId: secondOrg, userId: user.userId, role: "admin" });
    });

    it("must name selectedOrg: 400 selected_org_required listing the org ids", async () => {
      const before = await countRows(tessera);
      const response = await tessera.request("/user/authenticate", {
        body: { email: user.email, password: user.password },
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.code, "selected_org_required");
      assert.deepEqual(response.body.orgIds, [tessera.orgId, secondOrg]);
      assert.deepEqual(await countRows(tessera), before);
    });

    it("hears invalid_credentials, not the org list, when the password is wrong", async () => {
      const response = await tessera.request("/user/authenticate", {
        body: { email: user.email, password: "wrong password!!" },
      });
      assert.equal(response.status, 401);
      assert.equal(response.body.code, "invalid_credentials");
      assert.equal(response.body.orgIds, undefined);
    });

    it("logs into the org it selects", async () => {
      const response = await tessera.request("/user/authenticate", {
        body: { email: user.email, password: user.password, selectedOrg: secondOrg },
      });
      assert.equal(response.status, 200);
      assert.equal(response.body.orgId, secondOrg);
    });
  });

  it("answers 403 org_access_denied for an org the user is not active in (existing or not)", async () => {
    const member = await createMember(tessera);
    const otherOrg = await createOrg(tessera);
    await addMembership(tessera, { orgId: otherOrg, userId: member.userId, active: false });
    for (const selectedOrg of [otherOrg, otherOrg + 1000]) {
      const response = await tessera.request("/user/authenticate", {
        body: { email: member.email, password: member.password, selectedOrg },
      });
      assert.equal(response.status, 403, `selectedOrg ${selectedOrg}`);
      assert.equal(response.body.code, "org_access_denied");
    }
  });

  it("answers 404 no_active_org for a user whose memberships are all inactive", async () => {
    const member = await createMember(tessera);
    await setMembershipActive(tessera, member.membershipId, false);
    for (const body of [
      { email: member.email, password: member.password },
      { email: member.email, password: member.password, selectedOrg: tessera.orgId },
    ]) {
      const response = await tessera.request("/user/authenticate", { body });
      assert.equal(response.status, 404);
      assert.equal(response.body.code, "no_active_org");
    }
  });

  it("answers an unknown email and a wrong password with byte-identical responses", async () => {
    const member = await createMember(tessera);
    const unknown = await tessera.request("/user/authenticate", {
      body: { email: "nobody-here@example.com", password: "some password 1", selectedOrg: tessera.orgId },
    });
    const wrong = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: "some password 1", selectedOrg: tessera.orgId },
    });
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.text, wrong.text);
    for (const header of ["content-type", "www-authenticate", "content-length", "retry-after"]) {
      assert.equal(unknown.headers.get(header), wrong.headers.get(header), header);
    }
  });

  it("refuses a deactivated user with 403 account_disabled, only after the right password", async () => {
    const member = await createMember(tessera);
    await setUserActive(tessera, member.userId, false);
    const right = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: member.password, selectedOrg: tessera.orgId },
    });
    assert.equal(right.status, 403);
    assert.equal(right.body.code, "account_disabled");
    const wrong = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: "wrong password!!", selectedOrg: tessera.orgId },
    });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, "invalid_credentials");
  });
});
