import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Browser } from "@tessera/test-kit/browser.ts";
import { type ChildServer, oidcProviderScript, startChildServer } from "@tessera/test-kit/child-process.ts";
import { createMember } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { rawRequest } from "@tessera/test-kit/raw-http.ts";

const clientId = "tessera-abuse-client";
const clientSecret = "oidc-client-secret-for-the-abuse-tests-0123456789";

describe("single sign-on under abuse", () => {
  let tessera: TestInstance;
  let provider: ChildServer;
  let orgId: number;

  const loginUrl = (hint = "alice") => `${tessera.baseUrl}/sso/${orgId}/login?loginHint=${hint}`;
  const isCallback = (url: URL) => url.pathname === "/sso/callback";
  const storedAttempts = async () =>
    Number(
      (
        await tessera.ctx.db
          .selectFrom("sso_login_attempts")
          .select((eb) => eb.fn.countAll<number>().as("count"))
          .executeTakeFirstOrThrow()
      ).count,
    );

  before(async () => {
    tessera = await startTestInstance();
    orgId = tessera.orgId;
    provider = await startChildServer(oidcProviderScript, {
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_REDIRECT_URIS: `${tessera.baseUrl}/sso/callback`,
      OIDC_ACCOUNTS: JSON.stringify({ alice: { email: "alice@example.com", email_verified: true } }),
    });
    const adminToken = await tessera.login();
    const configured = await tessera.request(`/admin/orgs/${orgId}/sso`, {
      method: "PUT",
      token: adminToken,
      body: { issuer: provider.url, clientId, clientSecret, allowedEmailDomains: ["example.com"] },
    });
    assert.equal(configured.status, 200, configured.text);
    await createMember(tessera, { password: null, email: "alice@example.com", orgId });
  });
  after(async () => {
    await provider?.stop();
    await tessera?.close();
  });

  it("throttles sign-on starts per address: 200 starts do not store 200 attempts", async () => {
    const before = await storedAttempts();
    const statuses = new Map<number, number>();
    let throttled: Awaited<ReturnType<TestInstance["request"]>> | undefined;
    for (let start = 0; start < 200; start++) {
      const response = await fetch(loginUrl(), { redirect: "manual" });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 429 && !throttled) {
        const text = await response.text();
        throttled = { status: 429, headers: response.headers, text, body: JSON.parse(text) };
      } else await response.arrayBuffer();
    }
    assert.ok((statuses.get(429) ?? 0) >= 150, JSON.stringify([...statuses]));
    assert.equal(throttled?.body.code, "too_many_requests");
    assert.ok(Number(throttled?.headers.get("retry-after")) > 0);
    assert.ok((await storedAttempts()) - before <= 30, `${(await storedAttempts()) - before} attempts stored`);
    // The window passes: the address may start again.
    await tessera.clock.advanceSeconds(61);
    assert.equal((await fetch(loginUrl(), { redirect: "manual" })).status, 302);
  });

  it("caps the sign-ons in progress per org, whatever the addresses", async () => {
    await tessera.clock.advanceSeconds(61);
    const now = tessera.clock.now();
    const pending = Array.from({ length: 1000 }, (_, index) => ({
      state_hash: `pending-${now}-${index}`,
      browser_binding_hash: "x",
      org_id: orgId,
      nonce: "n",
      code_verifier: "v",
      redirect_uri: `${tessera.baseUrl}/sso/callback`,
      return_to: null,
      handover_challenge: null,
      created_at: now,
      consumed_at: null,
    }));
    for (let index = 0; index < pending.length; index += 100) {
      await tessera.ctx.db
        .insertInto("sso_login_attempts")
        .values(pending.slice(index, index + 100))
        .execute();
    }
    const before = await storedAttempts();
    const refused = await tessera.request(`/sso/${orgId}/login?loginHint=alice`);
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.body.code, "too_many_requests");
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    assert.equal(await storedAttempts(), before);
    // Once they expire, sign-ons start again.
    await tessera.clock.advanceSeconds(601);
    assert.equal((await fetch(loginUrl(), { redirect: "manual" })).status, 302);
  });

  it("does not let a callback without the binding cookie burn the attempt: the real browser still signs in", async () => {
    await tessera.clock.advanceSeconds(61);
    const browser = new Browser();
    const stopped = await browser.visit(loginUrl(), { stopAt: isCallback });
    const observer = await new Browser().visit(stopped.url);
    assert.equal(observer.status, 400, observer.text);
    assert.equal(observer.body.code, "sso_state_invalid");
    const done = await browser.visit(stopped.url);
    assert.equal(done.status, 200, done.text);
    assert.match(done.body.token, /^tsu_/);
    // Once used, the state is spent for every browser.
    const replay = await browser.visit(stopped.url);
    assert.equal(replay.status, 400, replay.text);
  });

  it("without TESSERA_PUBLIC_URL, builds no redirect URI from a Host that is not loopback", async () => {
    await tessera.clock.advanceSeconds(61);
    const before = await storedAttempts();
    for (const host of ["evil.example", "evil.example:443", "127.0.0.1.evil.example"]) {
      const refused = await rawRequest(tessera.baseUrl, `/sso/${orgId}/login`, { headers: { host } });
      assert.equal(refused.status, 400, `${host}: ${refused.text}`);
      assert.equal(refused.body.code, "sso_public_url_required", host);
    }
    assert.equal(await storedAttempts(), before);
    const { port } = new URL(tessera.baseUrl);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const started = await rawRequest(tessera.baseUrl, `/sso/${orgId}/login`, { headers: { host } });
      assert.equal(started.status, 302, `${host}: ${started.text}`);
    }
  });

  it("still signs in a browser after the throttles", async () => {
    await tessera.clock.advanceSeconds(61);
    const done = await new Browser().visit(loginUrl());
    assert.equal(done.status, 200, done.text);
    assert.match(done.body.token, /^tsu_/);
  });
});
