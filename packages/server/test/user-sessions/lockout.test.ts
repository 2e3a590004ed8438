import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createMember, type FixtureMember, lockoutState, setPasswordPolicy } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("per-account lockout", () => {
  let tessera: TestInstance;
  const maxFailedAttempts = 3;
  const lockoutMinutes = 10;
  before(async () => {
    tessera = await startTestInstance();
    await setPasswordPolicy(tessera, tessera.orgId, { maxFailedAttempts, lockoutMinutes });
  });
  after(() => tessera.close());

  const login = (member: FixtureMember, password: string) =>
    tessera.request("/user/authenticate", {
      body: { email: member.email, password, selectedOrg: tessera.orgId },
    });

  it("locks after maxFailedAttempts: 401 account_locked with Retry-After, even with the right password", async () => {
    const member = await createMember(tessera);
    for (let attempt = 1; attempt <= maxFailedAttempts; attempt++) {
      const response = await login(member, `wrong password ${attempt}`);
      assert.equal(response.status, 401);
      assert.equal(response.body.code, "invalid_credentials", `attempt ${attempt}`);
    }
    for (const password of [member.password, "wrong password again"]) {
      const locked = await login(member, password);
      assert.equal(locked.status, 401);
      assert.equal(locked.body.code, "account_locked");
      assert.equal(locked.headers.get("retry-after"), String(lockoutMinutes * 60));
      assert.match(locked.headers.get("www-authenticate") ?? "", /^Bearer /);
    }
    // The count of Retry-After follows the clock.
    await tessera.clock.advanceSeconds(60);
    const later = await login(member, member.password);
    assert.equal(later.body.code, "account_locked");
    assert.equal(later.headers.get("retry-after"), String(lockoutMinutes * 60 - 60));
  });

  it("ends by itself after lockoutMinutes, and the right password then works", async () => {
    const member = await createMember(tessera);
    for (let attempt = 1; attempt <= maxFailedAttempts; attempt++) await login(member, "wrong password!!");
    await tessera.clock.advanceSeconds(lockoutMinutes * 60 - 1);
    assert.equal((await login(member, member.password)).body.code, "account_locked");
    await tessera.clock.advanceSeconds(1);
    const response = await login(member, member.password);
    assert.equal(response.status, 200);
    assert.deepEqual(await lockoutState(tessera, member.userId), { failedAttempts: 0, lockedUntil: null });
  });

  it("counts afresh after a lockout has run out", async () => {
    const member = await createMember(tessera);
    for (let attempt = 1; attempt <= maxFailedAttempts; attempt++) await login(member, "wrong password!!");
    await tessera.clock.advanceSeconds(lockoutMinutes * 60);
    // One failure after the lockout is one failure, not a new lockout.
    assert.equal((await login(member, "wrong password!!")).body.code, "invalid_credentials");
    assert.equal((await login(member, member.password)).status, 200);
  });

  it("resets the count on a successful login", async () => {
    const member = await createMember(tessera);
    for (let attempt = 1; attempt < maxFailedAttempts; attempt++) await login(member, "wrong password!!");
    assert.equal((await lockoutState(tessera, member.userId)).failedAttempts, maxFailedAttempts - 1);
    assert.equal((await login(member, member.password)).status, 200);
    assert.equal((await lockoutState(tessera, member.userId)).failedAttempts, 0);
    for (let attempt = 1; attempt < maxFailedAttempts; attempt++) {
      assert.equal((await login(member, "wrong password!!")).body.code, "invalid_credentials");
    }
    assert.equal((await login(member, member.password)).status, 200);
  });

  it("counts concurrent wrong passwords: parallel guessing cannot slip past the lockout", async () => {
    const member = await createMember(tessera);
    const guesses = await Promise.all(
      Array.from({ length: maxFailedAttempts }, (_, index) => login(member, `parallel guess ${index}`)),
    );
    for (const guess of guesses) assert.equal(guess.status, 401);
    const locked = await login(member, member.password);
    assert.equal(locked.body.code, "account_locked");
    assert.ok((await lockoutState(tessera, member.userId)).lockedUntil !== null);
  });

  it("locks only the account under attack", async () => {
    const victim = await createMember(tessera);
    const bystander = await createMember(tessera);
    for (let attempt = 1; attempt <= maxFailedAttempts; attempt++) await login(victim, "wrong password!!");
    assert.equal((await login(victim, victim.password)).body.code, "account_locked");
    assert.equal((await login(bystander, bystander.password)).status, 200);
  });
});

describe("per-address throttle", () => {
  // access/address-throttle.ts: 50 failed logins from one address within 60 s.
  const maxFailures = 50;
  let tessera: TestInstance;
  before(async () => {
    // Believe X-Forwarded-For from loopback, so one test can speak from several addresses.
    tessera = await startTestInstance({ env: { TESSERA_TRUST_PROXY: "127.0.0.1" } });
  });
  after(() => tessera.close());

  const loginFrom = (address: string, email: string, password: string) =>
    tessera.request("/user/authenticate", {
      body: { email, password, selectedOrg: tessera.orgId },
      headers: { "x-forwarded-for": address },
    });

  /** Fails 50 logins from `sprayer`, spraying many (unknown) accounts: no single account reaches its lockout. */
  const spray = async (sprayer: string) => {
    for (let batch = 0; batch < maxFailures / 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          loginFrom(sprayer, `sprayed-${batch}-${index}@example.com`, "guess guess guess"),
        ),
      );
      for (const answer of answers) assert.equal(answer.body.code, "invalid_credentials");
    }
  };

  it("answers 429 too_many_requests with Retry-After once an address has failed 50 times", async () => {
    const member = await createMember(tessera);
    const sprayer = "203.0.113.7";
    await spray(sprayer);
    for (const [email, password] of [
      ["another-guess@example.com", "guess guess guess"],
      // Even the right password of a real account is refused from the throttled address.
      [member.email, member.password],
    ] as const) {
      const throttled = await loginFrom(sprayer, email, password);
      assert.equal(throttled.status, 429);
      assert.equal(throttled.body.code, "too_many_requests");
      assert.equal(throttled.headers.get("content-type"), "application/problem+json; charset=utf-8");
      const retryAfter = Number(throttled.headers.get("retry-after"));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    }
    // Password changes go through the same check.
    const change = await tessera.request("/user/password", {
      body: { email: member.email, currentPassword: member.password, newPassword: "a brand new password" },
      headers: { "x-forwarded-for": sprayer },
    });
    assert.equal(change.status, 429);
    assert.equal(change.body.code, "too_many_requests");
    // Another address is not affected.
    const elsewhere = await loginFrom("198.51.100.20", member.email, member.password);
    assert.equal(elsewhere.status, 200);
  });

  it("counts the 60-s window on the server's clock: the address may try again once it has passed", async () => {
    const member = await createMember(tessera);
    const sprayer = "203.0.113.8";
    await spray(sprayer);
    const throttled = await loginFrom(sprayer, member.email, member.password);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers.get("retry-after"), "60", "the clock has not moved since the first failure");

    await tessera.clock.advanceSeconds(59);
    const later = await loginFrom(sprayer, member.email, member.password);
    assert.equal(later.status, 429);
    assert.equal(later.headers.get("retry-after"), "1");
    await tessera.clock.advanceSeconds(1);
    const again = await loginFrom(sprayer, member.email, member.password);
    assert.equal(again.status, 200, again.text);
  });
});
