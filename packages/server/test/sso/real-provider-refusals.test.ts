/**
 * The five ID-token refusals of id-token-checks.test.ts (which uses a hand-written stand-in
 * provider), proven again against a REAL OpenID provider: panva's oidc-provider in its own process.
 * A test-only tampering proxy sits at the provider's issuer URL, so Tessera's configured issuer is
 * the provider's real issuer and discovery, JWKS, authorization and token endpoint all pass through
 * it. Every wrong ID token is a real one from a real provider, wrong in exactly one way:
 *
 *   bad_signature   the provider's own token for this sign-on, one signature byte flipped
 *   wrong_issuer    a token for this sign-on (same client, account and nonce) from a second real
 *                   provider that signs with the SAME keys but is another issuer
 *   wrong_audience  a token for this sign-on's nonce, from the same provider, issued to a second client
 *   expired         the provider's own, untouched token, with Tessera's test clock moved past its exp
 *   wrong_nonce     a token from an earlier completed sign-on (it carries that attempt's nonce)
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Browser, type Visit } from "@tessera/test-kit/browser.ts";
import { type ChildServer, oidcProviderScript, startChildServer } from "@tessera/test-kit/child-process.ts";
import { auditEventsOfType, createMember } from "@tessera/test-kit/fixtures.ts";
import { type IdTokenTamperingProxy, startIdTokenTamperingProxy } from "@tessera/test-kit/id-token-tampering-proxy.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, type JWTPayload, jwtVerify } from "jose";

const clientId = "tessera-test-client";
const clientSecret = "oidc-client-secret-for-the-refusal-tests-0123456789";
/** A second client registered at the same provider: its ID tokens name it, not Tessera, as audience. */
const otherClient = {
  client_id: "another-app",
  client_secret: "another-app-client-secret-0123456789",
  redirect_uris: ["https://another-app.example/callback"],
};
const accounts = { alice: { email: "alice@example.com", email_verified: true, name: "Alice" } };

interface RelyingParty {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** Flips one bit in the middle of the signature's bytes (not of its base64url text, whose last character has slack bits). */
function flipSignatureByte(jwt: string): string {
  const [header, payload, signature = ""] = jwt.split(".");
  const bytes = Buffer.from(signature, "base64url");
  const middle = bytes.length >> 1;
  bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x01, middle);
  return `${header}.${payload}.${bytes.toString("base64url")}`;
}

/**
 * Runs the authorization-code flow at `issuer` as the relying party `client` (PKCE, the given
 * nonce, the scripted login of alice) and returns the ID token the provider issues: a real,
 * validly signed token. The browser stops at the client's redirect URI: nothing is delivered there.
 */
async function idTokenFrom(issuer: string, client: RelyingParty, nonce: string): Promise<string> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = randomBytes(32).toString("base64url");
  const authorize = new URL(discovery.authorization_endpoint);
  const parameters = {
    response_type: "code",
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: "openid email profile",
    state: randomBytes(16).toString("base64url"),
    nonce,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    login_hint: "alice",
  };
  for (const [name, value] of Object.entries(parameters)) authorize.searchParams.set(name, value);
  const redirect = new URL(client.redirectUri);
  const stopped = await new Browser().visit(authorize.href, {
    stopAt: (url) => url.origin === redirect.origin && url.pathname === redirect.pathname,
  });
  const code = stopped.status === 0 ? new URL(stopped.url).searchParams.get("code") : null;
  assert.ok(code, `the provider issued no code: ${stopped.url} ${stopped.text}`);
  const answer = await fetch(discovery.token_endpoint, {
    method: "POST",
    headers: {
      authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString("base64")}`,
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUri,
      code_verifier: verifier,
    }),
  });
  const tokens = (await answer.json()) as { id_token?: string };
  assert.equal(answer.status, 200, JSON.stringify(tokens));
  assert.ok(tokens.id_token, "the token endpoint answered an ID token");
  return tokens.id_token;
}

describe("ID token refusals against a real OpenID provider (oidc-provider), through a tampering proxy", () => {
  let tessera: TestInstance;
  let proxy: IdTokenTamperingProxy;
  /** The provider Tessera is configured with; its issuer is the proxy's URL. */
  let provider: ChildServer;
  /** A second real provider with the same signing keys, at another issuer URL. */
  let otherIssuer: ChildServer;
  let providerKeys: ReturnType<typeof createRemoteJWKSet>;
  let tesseraClient: RelyingParty;

  const loginUrl = () => `${tessera.baseUrl}/sso/${tessera.orgId}/login?loginHint=alice`;
  const isCallback = (url: URL) => url.origin === tessera.baseUrl && url.pathname === "/sso/callback";
  const sessionCount = async () => (await tessera.ctx.db.selectFrom("sessions").select("id").execute()).length;
  /** A token's claims once its signature verifies against the provider's published keys (and it is unexpired). */
  const verifiedClaims = async (idToken: string): Promise<JWTPayload> =>
    (await jwtVerify(idToken, providerKeys, { algorithms: ["RS256"] })).payload;

  /**
   * Starts a sign-on at Tessera and lets the browser go through the provider (via the proxy) up to
   * where it is sent back to Tessera's callback: Tessera has not redeemed the code yet.
   */
  async function startSignOn(): Promise<{ nonce: string; finish: () => Promise<Visit> }> {
    const browser = new Browser();
    const stopped = await browser.visit(loginUrl(), { stopAt: isCallback });
    assert.equal(stopped.status, 0, `the provider did not send the browser back: ${stopped.url} ${stopped.text}`);
    const authorize = new URL(stopped.chain.find((url) => url.startsWith(`${proxy.url}/auth`)) ?? "");
    const nonce = authorize.searchParams.get("nonce") ?? "";
    assert.ok(nonce, "Tessera sent the provider a nonce");
    return { nonce, finish: () => browser.visit(stopped.url) };
  }

  /** The refusal, exactly as id-token-checks.test.ts asserts it, and that it came from one token-endpoint answer. */
  async function assertRefusedAs(reason: string, finish: () => Promise<Visit>): Promise<void> {
    const sessionsBefore = await sessionCount();
    const failuresBefore = (await auditEventsOfType(tessera, "sso.login.failed")).length;
    const visit = await finish();
    assert.equal(visit.status, 401, visit.text);
    assert.equal(visit.body.code, "sso_id_token_invalid");
    assert.equal(visit.headers.get("content-type"), "application/problem+json; charset=utf-8");
    const failures = await auditEventsOfType(tessera, "sso.login.failed");
    assert.equal(failures.length, failuresBefore + 1, "the refusal was audited once");
    const [event] = failures.slice(-1);
    assert.equal(event?.data.reason, reason);
    assert.equal(event?.data.code, "sso_id_token_invalid");
    assert.equal(event?.org_id, tessera.orgId);
    assert.equal(await sessionCount(), sessionsBefore, "no session was created");
  }

  /** Finishes the sign-on with the next token-endpoint answer's ID token rewritten; checks the proxy did it. */
  async function finishTampered(
    signOn: { finish: () => Promise<Visit> },
    reason: string,
    rewrite: (original: string) => string,
  ): Promise<void> {
    const tampered = proxy.tamperedCount;
    proxy.tamperNextIdToken(rewrite);
    await assertRefusedAs(reason, signOn.finish);
    assert.equal(proxy.tamperedCount, tampered + 1, "the proxy rewrote Tessera's token-endpoint answer");
  }

  before(async () => {
    tessera = await startTestInstance();
    const callback = `${tessera.baseUrl}/sso/callback`;
    tesseraClient = { clientId, clientSecret, redirectUri: callback };
    // One signing key for both providers: a token from the other issuer verifies against this one's JWKS.
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const sharedKeys = {
      keys: [{ ...(await exportJWK(privateKey)), kid: "shared-test-key", alg: "RS256", use: "sig" }],
    };
    const common = {
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_REDIRECT_URIS: callback,
      OIDC_ACCOUNTS: JSON.stringify(accounts),
      OIDC_JWKS: JSON.stringify(sharedKeys),
    };
    proxy = await startIdTokenTamperingProxy();
    provider = await startChildServer(oidcProviderScript, {
      ...common,
      OIDC_ISSUER: proxy.url,
      OIDC_EXTRA_CLIENTS: JSON.stringify([otherClient]),
    });
    proxy.forwardTo(provider.url);
    otherIssuer = await startChildServer(oidcProviderScript, common);
    // The test's own look at the keys goes to the provider directly, not through the proxy.
    providerKeys = createRemoteJWKSet(new URL(`${provider.url}/jwks`));

    await createMember(tessera, { password: null, email: "alice@example.com", orgId: tessera.orgId });
    const adminToken = await tessera.login();
    const configured = await tessera.request(`/admin/orgs/${tessera.orgId}/sso`, {
      method: "PUT",
      token: adminToken,
      body: { issuer: proxy.url, clientId, clientSecret, allowedEmailDomains: ["example.com"] },
    });
    assert.equal(configured.status, 200, configured.text);
  });
  after(async () => {
    await otherIssuer?.stop();
    await provider?.stop();
    await proxy?.close();
    await tessera?.close();
  });

  it("accepts the untampered ID token through the same proxy (the control for every refusal below)", async () => {
    const issuedBefore = proxy.issuedIdTokens.length;
    const sessionsBefore = await sessionCount();
    const visit = await new Browser().visit(loginUrl());
    assert.equal(visit.status, 200, visit.text);
    const me = await tessera.request("/user/users/me", { token: visit.body.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, "alice@example.com");
    assert.equal(await sessionCount(), sessionsBefore + 1);

    // The same, stopped where the provider sends the browser back and then resumed, as the refusals below do.
    const signOn = await startSignOn();
    const resumed = await signOn.finish();
    assert.equal(resumed.status, 200, resumed.text);
    assert.equal(decodeJwt(proxy.issuedIdTokens.at(-1) ?? "").nonce, signOn.nonce);

    // Everything went through the proxy, which is the issuer its discovery document names, and changed nothing.
    for (const hop of ["GET /.well-known/openid-configuration", "GET /jwks", "GET /auth", "POST /token"]) {
      assert.ok(proxy.requests.includes(hop), `${hop} went through the proxy`);
    }
    assert.ok(proxy.requests.some((hop) => hop.startsWith("GET /interaction/")));
    assert.equal(proxy.issuedIdTokens.length, issuedBefore + 2);
    assert.equal(proxy.tamperedCount, 0);
    const discovery = (await (await fetch(`${proxy.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(discovery.issuer, proxy.url);
    assert.equal(discovery.token_endpoint, `${proxy.url}/token`);
    assert.equal(discovery.jwks_uri, `${proxy.url}/jwks`);
  });

  it("refuses the real ID token with a signature byte flipped: 401 sso_id_token_invalid, audited as bad_signature", async () => {
    const signOn = await startSignOn();
    await finishTampered(signOn, "bad_signature", flipSignatureByte);
    // Untampered, the token was good: signed by the provider's key, for this client and this sign-on.
    const claims = await verifiedClaims(proxy.issuedIdTokens.at(-1) ?? "");
    assert.equal(claims.iss, proxy.url);
    assert.equal(claims.aud, clientId);
    assert.equal(claims.nonce, signOn.nonce);
  });

  it("refuses a real ID token from another issuer with the same keys: 401 sso_id_token_invalid, audited as wrong_issuer", async () => {
    const signOn = await startSignOn();
    const foreign = await idTokenFrom(otherIssuer.url, tesseraClient, signOn.nonce);
    // Wrong in its issuer only: the signature verifies against the configured provider's keys.
    const claims = await verifiedClaims(foreign);
    assert.equal(claims.iss, otherIssuer.url);
    assert.notEqual(claims.iss, proxy.url);
    assert.equal(claims.aud, clientId);
    assert.equal(claims.sub, "alice");
    assert.equal(claims.nonce, signOn.nonce);
    await finishTampered(signOn, "wrong_issuer", () => foreign);
  });

  it("refuses a real ID token issued to another client: 401 sso_id_token_invalid, audited as wrong_audience", async () => {
    const signOn = await startSignOn();
    const [redirectUri = ""] = otherClient.redirect_uris;
    const forAnother = await idTokenFrom(
      proxy.url,
      { clientId: otherClient.client_id, clientSecret: otherClient.client_secret, redirectUri },
      signOn.nonce,
    );
    // Wrong in its audience only: same provider, same key, same account, this sign-on's nonce.
    const claims = await verifiedClaims(forAnother);
    assert.equal(claims.aud, otherClient.client_id);
    assert.equal(claims.iss, proxy.url);
    assert.equal(claims.sub, "alice");
    assert.equal(claims.nonce, signOn.nonce);
    await finishTampered(signOn, "wrong_audience", () => forAnother);
  });

  it("refuses the real ID token once Tessera's clock is past its exp: 401 sso_id_token_invalid, audited as expired", async () => {
    // How long the provider's ID tokens live, from one it issues.
    const [redirectUri = ""] = otherClient.redirect_uris;
    const sample = decodeJwt(
      await idTokenFrom(
        proxy.url,
        { clientId: otherClient.client_id, clientSecret: otherClient.client_secret, redirectUri },
        "lifetime-probe",
      ),
    );
    const lifetimeSeconds = (sample.exp ?? 0) - (sample.iat ?? 0);
    assert.ok(lifetimeSeconds > 0);
    // The test clock stands still: bring it to now, then past the lifetime and Tessera's 60-s leeway,
    // with room for the sign-on itself. The sign-on starts after the move, so its state is fresh.
    const ahead = Date.now() - tessera.clock.now() + (lifetimeSeconds + 300) * 1000;
    await tessera.clock.advance(ahead);
    try {
      const signOn = await startSignOn();
      const issuedBefore = proxy.issuedIdTokens.length;
      const tampered = proxy.tamperedCount;
      await assertRefusedAs("expired", signOn.finish);
      assert.equal(proxy.tamperedCount, tampered, "the token went through untouched");
      assert.equal(proxy.issuedIdTokens.length, issuedBefore + 1);
      // The refused token was the provider's own, valid by the real clock, expired by Tessera's.
      const claims = await verifiedClaims(proxy.issuedIdTokens.at(-1) ?? "");
      assert.equal(claims.nonce, signOn.nonce);
      assert.equal(claims.aud, clientId);
      assert.ok((claims.exp ?? Number.POSITIVE_INFINITY) + 60 < tessera.clock.now() / 1000, "past exp and leeway");
    } finally {
      await tessera.clock.advance(-ahead);
    }
  });

  it("refuses a real ID token from an earlier completed sign-on: 401 sso_id_token_invalid, audited as wrong_nonce", async () => {
    const earlier = await new Browser().visit(loginUrl());
    assert.equal(earlier.status, 200, earlier.text);
    const replayed = proxy.issuedIdTokens.at(-1) ?? "";
    const signOn = await startSignOn();
    // Wrong in its nonce only: this provider's key, Tessera's client, unexpired, but another attempt's nonce.
    const claims = await verifiedClaims(replayed);
    assert.equal(claims.iss, proxy.url);
    assert.equal(claims.aud, clientId);
    assert.equal(typeof claims.nonce, "string");
    assert.notEqual(claims.nonce, signOn.nonce);
    await finishTampered(signOn, "wrong_nonce", () => replayed);
  });
});
