import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertProblem } from "@tessera/test-kit/admin.ts";
import {
  addMembership,
  auditEventsOfType,
  countRows,
  createMember,
  createOrg,
  createPerson,
  type FixtureMember,
  lockoutState,
  openSession,
  setPasswordPolicy,
  uniqueEmail,
} from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

const day = 86_400;

/**
 * Credential rules belong to the account, not to the org a login names: failures count per
 * account, and the strictest policy of its active memberships applies to lockout and passwords.
 */
describe("the strictest policy of the account's orgs", () => {
  let tessera: TestInstance;
  let laxOrg: number;
  let strictOrg: number;
  before(async () => {
    tessera = await startTestInstance();
    laxOrg = await createOrg(tessera);
    strictOrg = await createOrg(tessera);
    await setPasswordPolicy(tessera, laxOrg, {
      maxFailedAttempts: 100,
      lockoutMinutes: 1,
      minLength: 8,
      historyCount: 1,
      maxAgeDays: 0,
    });
    await setPasswordPolicy(tessera, strictOrg, {
      maxFailedAttempts: 3,
      lockoutMinutes: 10,
      minLength: 20,
      historyCount: 5,
      maxAgeDays: 30,
    });
  });
  after(() => tessera.close());

  /** A person active in the lax and the strict org, with a password both accept. */
  const memberOfBoth = async (): Promise<FixtureMember> => {
    const member = await createMember(tessera, { orgId: laxOrg, password: "a password long enough for both" });
    await addMembership(tessera, { orgId: strictOrg, userId: member.userId });
    return member;
  };
  const login = (email: string, password: string, selectedOrg: number) =>
    tessera.request("/user/authenticate", { body: { email, password, selectedOrg } });
  const change = (member: FixtureMember, newPassword: string, selectedOrg: number, current = member.password) =>
    tessera.request("/user/password", {
      body: { email: member.email, currentPassword: current, newPassword, selectedOrg },
    });

  it("locks the account after the strict org's maxFailedAttempts, whichever org the guesses name", async () => {
    const member = await memberOfBoth();
    for (let attempt = 1; attempt <= 3; attempt++) {
      assert.equal((await login(member.email, `wrong guess ${attempt}`, laxOrg)).body.code, "invalid_credentials");
    }
    for (const org of [strictOrg, laxOrg]) {
      const locked = await login(member.email, member.password, org);
      assertProblem(locked, 401, "account_locked");
      assert.equal(locked.headers.get("retry-after"), String(10 * 60));
    }
  });

  it("counts the failures of every org on the one account", async () => {
    const member = await memberOfBoth();
    await login(member.email, "wrong guess a", laxOrg);
    await login(member.email, "wrong guess b", strictOrg);
    assert.equal((await lockoutState(tessera, member.userId)).failedAttempts, 2);
    await login(member.email, "wrong guess c", laxOrg);
    assert.equal((await login(member.email, member.password, strictOrg)).body.code, "account_locked");
  });

  it("applies the strict org's minLength to a change made through the lax org", async () => {
    const member = await memberOfBoth();
    const before = await countRows(tessera);
    assertProblem(await change(member, "short123", laxOrg), 400, "password_policy_violation");
    assert.deepEqual(await countRows(tessera), before);
    assert.equal((await login(member.email, member.password, strictOrg)).status, 200);
  });

  it("applies the strict org's historyCount to a change made through the lax org", async () => {
    const member = await memberOfBoth();
    const second = "the second password of this account";
    assert.equal((await change(member, second, laxOrg)).status, 204);
    assertProblem(await change(member, member.password, laxOrg, second), 400, "password_policy_violation");
  });

  it("expires the password after the strict org's maxAgeDays, also for a login into the lax org", async () => {
    const member = await memberOfBoth();
    await tessera.clock.advanceSeconds(30 * day);
    assertProblem(await login(member.email, member.password, laxOrg), 401, "password_expired");
    const me = await tessera.request("/user/users/me", {
      token: await openSession(tessera, { email: member.email, orgId: laxOrg }),
    });
    assert.ok(me.body.passwordExpiresAt !== null && me.body.passwordExpiresAt <= tessera.clock.now() / 1000);
  });

  it("ignores the policy of an org whose membership is inactive", async () => {
    const member = await createMember(tessera, { orgId: laxOrg, password: "lax but long" });
    await addMembership(tessera, { orgId: strictOrg, userId: member.userId, active: false });
    for (let attempt = 1; attempt <= 3; attempt++) await login(member.email, `wrong guess ${attempt}`, laxOrg);
    assert.equal((await login(member.email, member.password, laxOrg)).status, 200);
  });
});

describe("the system cap on lockouts", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance({ env: { TESSERA_MAX_LOCKOUT_MINUTES: "30" } });
    await setPasswordPolicy(tessera, tessera.orgId, { maxFailedAttempts: 1, lockoutMinutes: 10_080 });
  });
  after(() => tessera.close());

  it("locks for at most TESSERA_MAX_LOCKOUT_MINUTES, whatever an org's policy says", async () => {
    const member = await createMember(tessera);
    const body = { email: member.email, password: "wrong password", selectedOrg: tessera.orgId };
    await tessera.request("/user/authenticate", { body });
    const locked = await tessera.request("/user/authenticate", { body: { ...body, password: member.password } });
    assertProblem(locked, 401, "account_locked");
    assert.equal(locked.headers.get("retry-after"), String(30 * 60));
  });
});

describe("POST /admin/orgs/{orgId}/users/{userId}/unlock", () => {
  let tessera: TestInstance;
  let adminToken: string;
  before(async () => {
    tessera = await startTestInstance();
    await setPasswordPolicy(tessera, tessera.orgId, { maxFailedAttempts: 2, lockoutMinutes: 60 });
    adminToken = await tessera.login();
  });
  after(() => tessera.close());

  const lockOut = async (email: string) => {
    for (const guess of ["wrong one", "wrong two"]) {
      await tessera.request("/user/authenticate", { body: { email, password: guess, selectedOrg: tessera.orgId } });
    }
  };
  const unlock = (token: string, userId: number, orgId = tessera.orgId) =>
    tessera.request(`/admin/orgs/${orgId}/users/${userId}/unlock`, { method: "POST", token });

  it("lets an org admin clear a member's lockout: 204, audited user.unlocked, the password works again", async () => {
    const admin = await createMember(tessera, { role: "admin" });
    const adminSession = await openSession(tessera, { email: admin.email });
    const member = await createMember(tessera);
    await lockOut(member.email);
    assert.ok((await lockoutState(tessera, member.userId)).lockedUntil !== null);
    const response = await unlock(adminSession, member.userId);
    assert.equal(response.status, 204, response.text);
    assert.equal(response.text, "");
    assert.deepEqual(await lockoutState(tessera, member.userId), { failedAttempts: 0, lockedUntil: null });
    const events = (await auditEventsOfType(tessera, "user.unlocked")).filter(
      (event) => event.subject_user_id === member.userId,
    );
    assert.equal(events.length, 1);
    assert.equal(events[0]?.actor_user_id, admin.userId);
    assert.equal(events[0]?.org_id, tessera.orgId);
    const login = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: member.password, selectedOrg: tessera.orgId },
    });
    assert.equal(login.status, 200, login.text);
  });

  it("refuses a member (403 forbidden) and an admin acting on an owner (403 forbidden)", async () => {
    const member = await createMember(tessera);
    const memberSession = await openSession(tessera, { email: member.email });
    const owner = await createMember(tessera, { role: "owner" });
    await lockOut(owner.email);
    assertProblem(await unlock(memberSession, owner.userId), 403, "forbidden");
    const admin = await createMember(tessera, { role: "admin" });
    assertProblem(await unlock(await openSession(tessera, { email: admin.email }), owner.userId), 403, "forbidden");
    assert.ok((await lockoutState(tessera, owner.userId)).lockedUntil !== null);
  });

  it("answers 404 not_found for an account that is not an active member of the org", async () => {
    const otherOrg = await createOrg(tessera);
    const outsider = await createMember(tessera, { orgId: otherOrg });
    await lockOut(outsider.email);
    const admin = await createMember(tessera, { role: "admin" });
    const adminSession = await openSession(tessera, { email: admin.email });
    assertProblem(await unlock(adminSession, outsider.userId), 404, "not_found");
    const inactive = await createMember(tessera, { membershipActive: false });
    assertProblem(await unlock(adminSession, inactive.userId), 404, "not_found");
  });

  it("lets the system admin's session clear the lockout of any account, member of its org or not", async () => {
    const otherOrg = await createOrg(tessera);
    await setPasswordPolicy(tessera, otherOrg, { maxFailedAttempts: 2, lockoutMinutes: 60 });
    const outsider = await createMember(tessera, { orgId: otherOrg });
    for (const guess of ["wrong one", "wrong two"]) {
      await tessera.request("/user/authenticate", { body: { email: outsider.email, password: guess } });
    }
    assert.ok((await lockoutState(tessera, outsider.userId)).lockedUntil !== null);
    assert.equal((await unlock(adminToken, outsider.userId)).status, 204);
    assert.deepEqual(await lockoutState(tessera, outsider.userId), { failedAttempts: 0, lockedUntil: null });
    assertProblem(await unlock(adminToken, 999_999), 404, "not_found");
  });
});

describe("failed logins of unknown emails", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  /** The codes and Retry-After of six wrong passwords and then the (or a) right one. */
  const answers = async (email: string, rightPassword: string) => {
    const seen: string[] = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      const password = attempt === 7 ? rightPassword : `wrong password ${attempt}`;
      const response = await tessera.request("/user/authenticate", { body: { email, password } });
      seen.push(`${response.status} ${response.body.code} ${response.headers.get("retry-after")}`);
    }
    return seen;
  };

  it("answers account_locked to the 6th wrong password of an unknown email, exactly as for a real account", async () => {
    const real = await createMember(tessera);
    const realAnswers = await answers(real.email, real.password);
    const unknownAnswers = await answers(uniqueEmail("nobody"), "any password at all");
    assert.deepEqual(unknownAnswers, realAnswers);
    assert.equal(realAnswers[5], `401 account_locked ${15 * 60}`);
  });

  it("counts an unknown email whatever its case, and keeps only a keyed hash of it", async () => {
    const email = uniqueEmail("casing");
    for (let attempt = 1; attempt <= 5; attempt++) {
      const spelled = attempt % 2 === 0 ? email.toUpperCase() : email;
      await tessera.request("/user/authenticate", { body: { email: spelled, password: "wrong password" } });
    }
    const locked = await tessera.request("/user/authenticate", { body: { email, password: "wrong password" } });
    assertProblem(locked, 401, "account_locked");
    const rows = await tessera.ctx.db.selectFrom("unknown_email_failures").selectAll().execute();
    assert.ok(rows.length >= 1);
    for (const row of rows) assert.ok(!row.email_hash.includes("@") && !row.email_hash.includes(email));
  });

  it("counts a person without a password (single sign-on only) like an unknown email", async () => {
    const person = await createPerson(tessera, { password: null });
    await addMembership(tessera, { orgId: tessera.orgId, userId: person.userId });
    const seen = await answers(person.email, "any password at all");
    assert.equal(seen[5], `401 account_locked ${15 * 60}`);
  });
});
