import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createMember, memberPassword, setSessionPolicy } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { hashToken } from "../../src/crypto/tokens.ts";

const renew = (tessera: TestInstance, token: string, scheme = "Bearer") =>
  tessera.request("/user/authenticate", { headers: { authorization: `${scheme} ${token}` } });
const me = (tessera: TestInstance, token: string) => tessera.request("/user/users/me", { token });
const unixSeconds = (tessera: TestInstance) => Math.floor(tessera.clock.now() / 1000);

describe("GET /user/authenticate (renewal)", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("returns a new token with a new 15-minute window, whatever the case of the scheme", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const token = await tessera.login();
      await tessera.clock.advanceSeconds(600);
      const response = await renew(tessera, token, scheme);
      assert.equal(response.status, 200, scheme);
      assert.match(response.body.token, /^tsu_[A-Za-z0-9_-]{43}$/);
      assert.notEqual(response.body.token, token);
      assert.equal(response.body.tokenType, "Bearer");
      assert.equal(response.body.expiresIn, 900);
      assert.equal(response.body.expiresAt, unixSeconds(tessera) + 900);
      assert.equal(response.body.orgId, tessera.orgId);
      assert.equal((await me(tessera, response.body.token)).status, 200);
    }
  });

  it("gives 25 concurrent renewals of one token exactly one new token, which works", async () => {
    const token = await tessera.login();
    const answers = await Promise.all(Array.from({ length: 25 }, () => renew(tessera, token)));
    for (const answer of answers) assert.equal(answer.status, 200, answer.text);
    const distinct = new Set(answers.map((answer) => answer.body.token));
    assert.equal(distinct.size, 1);
    const [successor] = distinct;
    assert.notEqual(successor, token);
    assert.equal((await me(tessera, String(successor))).status, 200);
    // The session has exactly two tokens (the retired one, in grace, and its successor) and one renewal.
    const { session_id: sessionId } = await tessera.ctx.db
      .selectFrom("session_tokens")
      .select("session_id")
      .where("token_hash", "=", hashToken(token))
      .executeTakeFirstOrThrow();
    const tokens = await tessera.ctx.db
      .selectFrom("session_tokens")
      .select(["token_hash", "grace_ends_at"])
      .where("session_id", "=", sessionId)
      .execute();
    // The current token (grace_ends_at null) first; the dialects sort nulls differently, so sort here.
    tokens.sort((a, b) => (a.grace_ends_at ?? -1) - (b.grace_ends_at ?? -1));
    assert.deepEqual(
      tokens.map((row) => row.token_hash),
      [hashToken(String(successor)), hashToken(token)],
    );
    const audit = await tessera.ctx.db
      .selectFrom("audit_events")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("type", "=", "session.renewed")
      .where("data", "=", JSON.stringify({ sessionId }))
      .executeTakeFirstOrThrow();
    assert.equal(Number(audit.count), 1, "one renewal is recorded, not 25");
  });

  it("renews the same token twice in the grace window to the same successor", async () => {
    const token = await tessera.login();
    const first = await renew(tessera, token);
    await tessera.clock.advanceSeconds(10);
    const second = await renew(tessera, token);
    assert.equal(second.status, 200);
    assert.equal(second.body.token, first.body.token);
  });

  it("answers a late renewal of a token whose successor was renewed too with the session's current token", async () => {
    const first = await tessera.login();
    const second = (await renew(tessera, first)).body.token as string;
    await tessera.clock.advanceSeconds(5);
    const third = (await renew(tessera, second)).body.token as string;
    await tessera.clock.advanceSeconds(5);
    const late = await renew(tessera, first);
    assert.equal(late.status, 200);
    assert.equal(late.body.token, third);
    // The answer's window is the truth: the token lives on after the grace of the retired ones.
    await tessera.clock.advanceSeconds(60);
    assert.equal((await me(tessera, late.body.token)).status, 200);
  });

  it("keeps the old token working inside renewGraceSeconds (30 s) and answers 401 after it", async () => {
    const token = await tessera.login();
    const successor = (await renew(tessera, token)).body.token as string;
    await tessera.clock.advanceSeconds(29);
    assert.equal((await me(tessera, token)).status, 200);
    await tessera.clock.advanceSeconds(1);
    const dead = await me(tessera, token);
    assert.equal(dead.status, 401);
    assert.equal(dead.body.code, "invalid_token");
    const lateRenewal = await renew(tessera, token);
    assert.equal(lateRenewal.status, 401);
    assert.equal((await me(tessera, successor)).status, 200);
  });

  it("lets a token that is not renewed expire after the idle window: 401 invalid_token with a Bearer challenge", async () => {
    const token = await tessera.login();
    await tessera.clock.advanceSeconds(899);
    assert.equal((await me(tessera, token)).status, 200);
    await tessera.clock.advanceSeconds(1);
    for (const response of [await me(tessera, token), await renew(tessera, token)]) {
      assert.equal(response.status, 401);
      assert.equal(response.body.code, "invalid_token");
      assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
      const challenge = response.headers.get("www-authenticate") ?? "";
      assert.match(challenge, /^Bearer /);
      assert.match(challenge, /error="invalid_token"/);
    }
  });

  it("answers expired, revoked, malformed and unknown tokens with the same body shape", async () => {
    const expired = await tessera.login();
    await tessera.clock.advanceSeconds(900);
    const revoked = await tessera.login();
    assert.equal((await tessera.request("/user/authenticate", { method: "DELETE", token: revoked })).status, 204);
    const unknown = `tsu_${"A".repeat(43)}`;
    const [malformed, ...wellFormed] = await Promise.all(
      ["garbage", expired, revoked, unknown].map((token) => me(tessera, token)),
    );
    // Expired, revoked and unknown are indistinguishable; a malformed token has the same shape.
    assert.equal(new Set(wellFormed.map((response) => response.text)).size, 1);
    for (const response of [malformed, ...wellFormed]) {
      assert.equal(response?.status, 401);
      assert.deepEqual(Object.keys(response?.body).sort(), ["code", "detail", "status", "title", "type"]);
      assert.equal(response?.body.code, "invalid_token");
    }
  });

  it("refuses to renew an API key: 400 invalid_request", async () => {
    const token = await tessera.login();
    const member = await createMember(tessera);
    const created = await tessera.request("/user/apiKey", {
      token,
      body: { orgUserId: member.membershipId, name: "renewal test" },
    });
    assert.equal(created.status, 200);
    const response = await tessera.request("/user/authenticate", { apiKey: created.body.apiKey });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, "invalid_request");
    const sessions = await tessera.ctx.db
      .selectFrom("sessions")
      .select("id")
      .where("user_id", "=", member.userId)
      .execute();
    assert.equal(sessions.length, 0);
  });
});

describe("the absolute cap", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
    await setSessionPolicy(tessera, tessera.orgId, { userIdleSeconds: 900, userAbsoluteSeconds: 1200 });
  });
  after(() => tessera.close());

  it("is never passed by renewals", async () => {
    const loginAt = unixSeconds(tessera);
    let token = await tessera.login();
    await tessera.clock.advanceSeconds(600);
    const renewed = await renew(tessera, token);
    assert.equal(renewed.status, 200);
    assert.equal(renewed.body.expiresAt, loginAt + 1200);
    assert.equal(renewed.body.expiresIn, 600);
    token = renewed.body.token;
    await tessera.clock.advanceSeconds(599);
    const last = await renew(tessera, token);
    assert.equal(last.body.expiresAt, loginAt + 1200);
    assert.equal(last.body.expiresIn, 1);
    const meAnswer = await me(tessera, last.body.token);
    assert.equal(meAnswer.body.sessionExpiresAt, loginAt + 1200);
    await tessera.clock.advanceSeconds(1);
    for (const response of [await me(tessera, last.body.token), await renew(tessera, last.body.token)]) {
      assert.equal(response.status, 401);
      assert.equal(response.body.code, "invalid_token");
    }
  });

  it("caps the first window too when the absolute lifetime is shorter than the idle window", async () => {
    await setSessionPolicy(tessera, tessera.orgId, { userIdleSeconds: 900, userAbsoluteSeconds: 300 });
    const response = await tessera.request("/user/authenticate", {
      body: { email: (await createMember(tessera)).email, password: memberPassword },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.expiresIn, 300);
    await setSessionPolicy(tessera, tessera.orgId, { userIdleSeconds: 900, userAbsoluteSeconds: 1200 });
  });
});

describe("DELETE /user/authenticate (logout)", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("answers 204 and kills the session: the token, its renewed successor, and further renewals", async () => {
    const token = await tessera.login();
    const successor = (await renew(tessera, token)).body.token as string;
    const logout = await tessera.request("/user/authenticate", { method: "DELETE", token });
    assert.equal(logout.status, 204);
    assert.equal(logout.text, "");
    for (const dead of [token, successor]) {
      const response = await me(tessera, dead);
      assert.equal(response.status, 401);
      assert.equal(response.body.code, "invalid_token");
      assert.equal((await renew(tessera, dead)).status, 401);
    }
    const again = await tessera.request("/user/authenticate", { method: "DELETE", token: successor });
    assert.equal(again.status, 401);
    assert.equal(again.body.code, "invalid_token");
  });

  it("logs out one session and leaves the user's other sessions alive", async () => {
    const first = await tessera.login();
    const second = await tessera.login();
    assert.equal((await tessera.request("/user/authenticate", { method: "DELETE", token: first })).status, 204);
    assert.equal((await me(tessera, first)).status, 401);
    assert.equal((await me(tessera, second)).status, 200);
  });

  it("needs a token: 401 invalid_token without one", async () => {
    const response = await tessera.request("/user/authenticate", { method: "DELETE" });
    assert.equal(response.status, 401);
    assert.equal(response.body.code, "invalid_token");
  });
});

describe("the default absolute cap", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("ends a session renewed every 10 minutes 12 hours after its login (ASVS 3.3.2)", async () => {
    const loginAt = unixSeconds(tessera);
    let token = await tessera.login();
    for (let elapsed = 600; elapsed < 12 * 3600; elapsed += 600) {
      await tessera.clock.advanceSeconds(600);
      const renewed = await renew(tessera, token);
      assert.equal(renewed.status, 200, `after ${elapsed} s: ${renewed.text}`);
      token = renewed.body.token;
    }
    assert.equal((await me(tessera, token)).body.sessionExpiresAt, loginAt + 12 * 3600);
    await tessera.clock.advanceSeconds(600);
    assert.equal((await me(tessera, token)).status, 401);
  });
});
