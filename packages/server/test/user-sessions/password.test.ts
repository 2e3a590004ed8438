import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { countRows, createMember, type FixtureMember, setPasswordPolicy } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { verifyPassword } from "../../src/crypto/passwords.ts";

const day = 86_400;

describe("password expiry and POST /user/password", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
    await setPasswordPolicy(tessera, tessera.orgId, { maxAgeDays: 30, minLength: 14, historyCount: 3 });
  });
  after(() => tessera.close());

  const login = (email: string, password: string) =>
    tessera.request("/user/authenticate", { body: { email, password, selectedOrg: tessera.orgId } });
  const change = (member: FixtureMember, currentPassword: string, newPassword: string) =>
    tessera.request("/user/password", {
      body: { email: member.email, currentPassword, newPassword, selectedOrg: tessera.orgId },
    });
  const storedHash = async (userId: number) =>
    (
      await tessera.ctx.db
        .selectFrom("users")
        .select("password_hash")
        .where("id", "=", userId)
        .executeTakeFirstOrThrow()
    ).password_hash;

  it("expires a password after maxAgeDays (401 password_expired) and accepts a change while expired", async () => {
    const member = await createMember(tessera);
    await tessera.clock.advanceSeconds(30 * day - 1);
    assert.equal((await login(member.email, member.password)).status, 200);
    await tessera.clock.advanceSeconds(1);
    const expired = await login(member.email, member.password);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, "password_expired");
    assert.match(expired.headers.get("www-authenticate") ?? "", /^Bearer /);

    const changed = await change(member, member.password, "a fresh password 2");
    assert.equal(changed.status, 204);
    assert.equal(changed.text, "");
    assert.equal((await login(member.email, "a fresh password 2")).status, 200);
    const old = await login(member.email, member.password);
    assert.equal(old.body.code, "invalid_credentials");
  });

  it("does not say password_expired to someone with the wrong password", async () => {
    const member = await createMember(tessera);
    await tessera.clock.advanceSeconds(31 * day);
    const response = await login(member.email, "not the password at all");
    assert.equal(response.status, 401);
    assert.equal(response.body.code, "invalid_credentials");
  });

  it("enforces the org's minLength: 400 password_policy_violation, password unchanged", async () => {
    const member = await createMember(tessera);
    const hashBefore = await storedHash(member.userId);
    const rowsBefore = await countRows(tessera);
    const response = await change(member, member.password, "13 characters");
    assert.equal(response.status, 400);
    assert.equal(response.body.code, "password_policy_violation");
    assert.equal(await storedHash(member.userId), hashBefore);
    assert.deepEqual(await countRows(tessera), rowsBefore);
    assert.equal((await login(member.email, member.password)).status, 200);
  });

  it("refuses the current password and the last historyCount ones, and allows older ones", async () => {
    const member = await createMember(tessera);
    const passwords = [member.password, "second password 22", "third password 333", "fourth password 4444"];
    for (let index = 1; index < passwords.length; index++) {
      const response = await change(member, passwords[index - 1] ?? "", passwords[index] ?? "");
      assert.equal(response.status, 204, `change ${index}`);
    }
    const current = passwords[3] ?? "";
    for (const reused of [current, passwords[2] ?? "", passwords[1] ?? ""]) {
      const response = await change(member, current, reused);
      assert.equal(response.status, 400, reused);
      assert.equal(response.body.code, "password_policy_violation");
    }
    assert.equal((await login(member.email, current)).status, 200);
    // historyCount is 3: the first password is four changes back and may come back.
    assert.equal((await change(member, current, passwords[0] ?? "")).status, 204);
  });

  it("answers a wrong current password with 401 invalid_credentials and changes nothing", async () => {
    const member = await createMember(tessera);
    const hashBefore = await storedHash(member.userId);
    const response = await change(member, "not the current one", "a perfectly good new one");
    assert.equal(response.status, 401);
    assert.equal(response.body.code, "invalid_credentials");
    assert.equal(await storedHash(member.userId), hashBefore);
  });

  it("answers an unknown email like a wrong password", async () => {
    const member = await createMember(tessera);
    const unknown = await tessera.request("/user/password", {
      body: { email: "no-such-person@example.com", currentPassword: "x", newPassword: "a perfectly good new one" },
    });
    const wrong = await change(member, "x", "a perfectly good new one");
    assert.equal(unknown.status, 401);
    assert.equal(unknown.text, wrong.text);
  });
});

describe("the bootstrap admin with a generated one-time password", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance({ generateAdminPassword: true });
  });
  after(() => tessera.close());

  it("must change it before the first login succeeds", async () => {
    const oneTime = tessera.bootstrap?.generatedPassword;
    assert.ok(oneTime && oneTime.length >= 20, "a generated password is returned once");
    // Only its hash is stored.
    const admin = await tessera.ctx.db
      .selectFrom("users")
      .select(["password_hash", "must_change_password"])
      .where("email", "=", adminEmail)
      .executeTakeFirstOrThrow();
    assert.notEqual(admin.password_hash, oneTime);
    assert.ok(admin.password_hash && (await verifyPassword(admin.password_hash, oneTime)));
    assert.equal(admin.must_change_password, 1);

    const first = await tessera.request("/user/authenticate", { body: { email: adminEmail, password: oneTime } });
    assert.equal(first.status, 401);
    assert.equal(first.body.code, "password_expired");

    // Reusing the one-time password as the new one is not a change.
    const same = await tessera.request("/user/password", {
      body: { email: adminEmail, currentPassword: oneTime, newPassword: oneTime },
    });
    assert.equal(same.status, 400);
    assert.equal(same.body.code, "password_policy_violation");

    const changed = await tessera.request("/user/password", {
      body: { email: adminEmail, currentPassword: oneTime, newPassword: "the admin's own password" },
    });
    assert.equal(changed.status, 204);
    const login = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: "the admin's own password" },
    });
    assert.equal(login.status, 200);
    assert.equal(login.body.orgId, tessera.orgId);
    const again = await tessera.request("/user/authenticate", { body: { email: adminEmail, password: oneTime } });
    assert.equal(again.body.code, "invalid_credentials");
  });
});
