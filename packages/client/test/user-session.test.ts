import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { inspect, promisify } from "node:util";
import { FaultProxy } from "@tessera/test-kit/fault-proxy.ts";
import {
  addMembership,
  countAudit,
  countRequests,
  createMember,
  createOrg,
  memberPassword,
  setPasswordPolicy,
} from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import {
  AccountLocked,
  InvalidCredentials,
  NoActiveOrg,
  OrgAccessDenied,
  PasswordExpired,
  SelectedOrgRequired,
  type TesseraClientError,
  UserSession,
  type UserSessionEvents,
} from "../src/index.ts";

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

async function loginError(promise: Promise<unknown>): Promise<TesseraClientError> {
  try {
    await promise;
  } catch (error) {
    return error as TesseraClientError;
  }
  assert.fail("the login succeeded");
}

describe("UserSession against a real server", () => {
  let tessera: TestInstance;
  let proxy: FaultProxy;
  before(async () => {
    tessera = await startTestInstance();
    proxy = new FaultProxy(tessera.baseUrl);
    await proxy.start();
  });
  after(async () => {
    await proxy.close();
    await tessera.close();
  });

  const adminLogin = (extra: Partial<Parameters<typeof UserSession.login>[0]> = {}) =>
    UserSession.login({
      baseUrl: tessera.baseUrl,
      email: adminEmail,
      password: adminPassword,
      selectedOrg: tessera.orgId,
      renewal: { autoRenew: false },
      ...extra,
    });

  it("logs in, exposes token and expiry, calls an API and logs out on close", async () => {
    const session = await adminLogin();
    assert.match(session.token, /^tsu_/);
    assert.equal(session.expiresAt?.getTime(), (Math.floor(tessera.clock.now() / 1000) + 900) * 1000);
    assert.equal(session.orgId, tessera.orgId);
    const me = await session.fetch("/user/users/me");
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { email: string }).email, adminEmail);
    const token = session.token;
    await session.close();
    const after = await tessera.request("/user/users/me", { token });
    assert.equal(after.status, 401);
    assert.equal(after.body.code, "invalid_token");
  });

  it("shares one renewal request among 20 concurrent renew() calls", async () => {
    const session = await adminLogin();
    const oldToken = session.token;
    const before = await countRequests(tessera, "GET", "/user/authenticate");
    await Promise.all(Array.from({ length: 20 }, () => session.renew()));
    assert.equal((await countRequests(tessera, "GET", "/user/authenticate")) - before, 1);
    assert.notEqual(session.token, oldToken);
    assert.equal((await session.fetch("/user/users/me")).status, 200);
    await session.close();
  });

  it("retries a renewal through a 503, a connection reset and a 429, then succeeds", async () => {
    const session = await adminLogin({ baseUrl: proxy.url, retry: fastRetry });
    const failed: UserSessionEvents["failed"][] = [];
    session.on("failed", (event) => failed.push(event));
    const serverBefore = await countRequests(tessera, "GET", "/user/authenticate");
    const proxyBefore = proxy.count("GET /user/authenticate");
    proxy.failNext("GET /user/authenticate", "503", "reset", "429");

    await session.renew();

    assert.equal(proxy.count("GET /user/authenticate") - proxyBefore, 4, "three failures, then the real one");
    assert.equal((await countRequests(tessera, "GET", "/user/authenticate")) - serverBefore, 1);
    assert.deepEqual(
      failed.map((event) => [event.error.code, event.willRetry]),
      [
        ["service_unavailable", true],
        ["network_error", true],
        ["too_many_requests", true],
      ],
    );
    assert.equal((await session.fetch("/user/users/me")).status, 200);
    await session.close();
  });

  it("retries a login through a 503 but never retries a refused one", async () => {
    proxy.failNext("POST /user/authenticate", "503");
    const before = proxy.count("POST /user/authenticate");
    const session = await adminLogin({ baseUrl: proxy.url, retry: fastRetry });
    assert.equal(proxy.count("POST /user/authenticate") - before, 2);
    await session.close();

    const refusedBefore = proxy.count("POST /user/authenticate");
    const error = await loginError(adminLogin({ baseUrl: proxy.url, retry: fastRetry, password: "wrong password!" }));
    assert.ok(error instanceof InvalidCredentials);
    assert.equal(proxy.count("POST /user/authenticate") - refusedBefore, 1);
  });

  it("50 concurrent calls that meet a 401 cause exactly one fresh login, and all succeed", async () => {
    const session = await adminLogin();
    const events: string[] = [];
    session.on("expired", ({ reason }) => events.push(`expired:${reason}`));
    session.on("renewed", ({ relogin }) => events.push(`renewed:${relogin}`));
    // Revoked from another handle: the session's token now answers 401.
    const revoked = await tessera.request("/user/authenticate", { method: "DELETE", token: session.token });
    assert.equal(revoked.status, 204);
    const loginsBefore = await countAudit(tessera, "session.created");
    const postsBefore = await countRequests(tessera, "POST", "/user/authenticate");

    const responses = await Promise.all(Array.from({ length: 50 }, () => session.fetch("/user/users/me")));

    assert.deepEqual(
      responses.map((response) => response.status),
      Array(50).fill(200),
    );
    await Promise.all(responses.map((response) => response.body?.cancel()));
    assert.equal((await countAudit(tessera, "session.created")) - loginsBefore, 1);
    assert.equal((await countRequests(tessera, "POST", "/user/authenticate")) - postsBefore, 1);
    assert.deepEqual(events, ["expired:unauthorized", "renewed:true"]);
    await session.close();
  });

  it("an API key session sends x-api-key, is never renewed, and reports a revoked key as expired", async () => {
    const adminToken = await tessera.login();
    const me = await tessera.request("/user/users/me", { token: adminToken });
    const created = await tessera.request("/user/apiKey", {
      token: adminToken,
      body: { orgUserId: me.body.orgUserId, name: "sdk test" },
    });
    assert.equal(created.status, 200);
    const session = UserSession.fromApiKey({ baseUrl: tessera.baseUrl, apiKey: created.body.apiKey });
    const expired: unknown[] = [];
    session.on("expired", (event) => expired.push(event));
    assert.equal(session.expiresAt, null);
    const answer = await session.fetch("/user/users/me");
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { authenticatedWith: string }).authenticatedWith, "apiKey");
    const renewalsBefore = await countRequests(tessera, "GET", "/user/authenticate");
    await session.renew();
    assert.equal(await countRequests(tessera, "GET", "/user/authenticate"), renewalsBefore);

    await tessera.ctx.db.updateTable("api_keys").set({ revoked_at: tessera.clock.now() }).execute();
    const refused = await session.fetch("/user/users/me");
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    assert.deepEqual(expired, [{ reason: "unauthorized" }]);
    await session.close();
  });

  it("keeps token and password out of inspection and error messages", async () => {
    const session = await adminLogin();
    const shown = inspect(session, { depth: 5, showHidden: true });
    assert.ok(!shown.includes(session.token), "no token in util.inspect");
    assert.ok(!shown.includes(adminPassword), "no password in util.inspect");
    const error = await loginError(adminLogin({ password: "hunter2-not-it" }));
    assert.ok(!inspect(error).includes("hunter2-not-it"));
    await session.close();
  });

  it("renews on a timer that does not keep the process alive (the process exits by itself)", async () => {
    const script = `
      import { UserSession } from ${JSON.stringify(fileURLToPath(new URL("../src/index.ts", import.meta.url)))};
      const session = await UserSession.login(${JSON.stringify({
        baseUrl: tessera.baseUrl,
        email: adminEmail,
        password: adminPassword,
        selectedOrg: tessera.orgId,
      })});
      console.log(session.expiresAt ? "logged-in" : "no-expiry");
    `;
    // The server runs in this process, so the child must run without blocking the event loop.
    const child = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    assert.equal(child.stdout.trim(), "logged-in", child.stderr);
  });
});

describe("UserSession login refusals are typed errors", () => {
  let tessera: TestInstance;
  let orgA: number;
  let orgB: number;
  before(async () => {
    tessera = await startTestInstance();
    orgA = await createOrg(tessera, "Org A");
    orgB = await createOrg(tessera, "Org B");
  });
  after(() => tessera.close());

  const login = (email: string, password: string, selectedOrg?: number) =>
    UserSession.login({
      baseUrl: tessera.baseUrl,
      email,
      password,
      ...(selectedOrg === undefined ? {} : { selectedOrg }),
      renewal: { autoRenew: false },
    });

  it("wrong password: InvalidCredentials, 401 invalid_credentials", async () => {
    await createMember(tessera, { email: "wrong@example.com", orgId: orgA });
    const error = await loginError(login("wrong@example.com", "not the password"));
    assert.ok(error instanceof InvalidCredentials);
    assert.equal(error.status, 401);
    assert.equal(error.code, "invalid_credentials");
  });

  it("locked account: AccountLocked with retryAfterSeconds", async () => {
    await createMember(tessera, { email: "locked@example.com", orgId: orgA });
    for (let attempt = 0; attempt < 5; attempt++) {
      assert.ok((await loginError(login("locked@example.com", "not the password"))) instanceof InvalidCredentials);
    }
    const error = await loginError(login("locked@example.com", memberPassword));
    assert.ok(error instanceof AccountLocked);
    assert.equal(error.status, 401);
    assert.equal(error.code, "account_locked");
    assert.equal(error.retryAfterSeconds, 15 * 60);
  });

  it("expired password: PasswordExpired, 401 password_expired", async () => {
    const orgId = await createOrg(tessera, "Strict");
    await setPasswordPolicy(tessera, orgId, {
      minLength: 12,
      maxAgeDays: 30,
      historyCount: 5,
      maxFailedAttempts: 5,
      lockoutMinutes: 15,
    });
    const { userId } = await createMember(tessera, { email: "stale@example.com", orgId });
    const longAgo = tessera.clock.now() - 31 * 86_400_000;
    await tessera.ctx.db.updateTable("users").set({ password_changed_at: longAgo }).where("id", "=", userId).execute();
    const error = await loginError(login("stale@example.com", memberPassword));
    assert.ok(error instanceof PasswordExpired);
    assert.equal(error.status, 401);
    assert.equal(error.code, "password_expired");
  });

  it("org access denied: OrgAccessDenied, 403 org_access_denied", async () => {
    await createMember(tessera, { email: "only-a@example.com", orgId: orgA });
    const error = await loginError(login("only-a@example.com", memberPassword, orgB));
    assert.ok(error instanceof OrgAccessDenied);
    assert.equal(error.status, 403);
    assert.equal(error.code, "org_access_denied");
  });

  it("several orgs and no selectedOrg: SelectedOrgRequired listing the org ids", async () => {
    const both = await createMember(tessera, { email: "both@example.com", orgId: orgA });
    await addMembership(tessera, { orgId: orgB, userId: both.userId });
    const error = await loginError(login("both@example.com", memberPassword));
    assert.ok(error instanceof SelectedOrgRequired);
    assert.equal(error.status, 400);
    assert.equal(error.code, "selected_org_required");
    assert.deepEqual(error.orgIds, [orgA, orgB]);
    const session = await login("both@example.com", memberPassword, error.orgIds[1]);
    assert.equal(session.orgId, orgB);
    await session.close();
  });

  it("no active org: NoActiveOrg, 404 no_active_org", async () => {
    const { userId } = await createMember(tessera, { email: "nowhere@example.com", orgId: orgA });
    await tessera.ctx.db.updateTable("memberships").set({ active: 0 }).where("user_id", "=", userId).execute();
    const error = await loginError(login("nowhere@example.com", memberPassword));
    assert.ok(error instanceof NoActiveOrg);
    assert.equal(error.status, 404);
    assert.equal(error.code, "no_active_org");
  });
});
