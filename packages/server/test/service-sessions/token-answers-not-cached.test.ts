import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createApiKey } from "@tessera/test-kit/admin.ts";
import { type CertificateKit, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { createMember, createServiceUser, memberPassword } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { SignJWT } from "jose";

// One kit for the whole file: RSA-4096 keys take seconds to make.
const kitPromise = makeCertificateKit();

type Headers = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | null {
  if (typeof headers.get === "function") return (headers as { get(name: string): string | null }).get(name);
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return typeof value === "string" ? value : null;
}

/** RFC 9111: a shared or browser cache must never keep an answer that carries a token. */
function assertNotCached(what: string, response: { status: number; text: string; headers: Headers }): void {
  assert.equal(response.status, 200, `${what}: ${response.text}`);
  assert.equal(header(response.headers, "cache-control"), "no-store", what);
  assert.equal(header(response.headers, "pragma"), "no-cache", what);
}

describe("answers that carry a token are never cached", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let adminToken: string;
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });

  const keyPairToken = () => {
    const nowSeconds = Math.floor(tessera.clock.now() / 1000);
    return (
      new SignJWT({})
        .setProtectedHeader({ alg: "RS512" })
        .setSubject("cache-bot")
        // Each login signs a token of its own: a key-pair token opens one session of each kind.
        .setJti(randomUUID())
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + 300)
        .sign(rsa.privateKey)
    );
  };

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), kitPromise]);
    adminToken = await tessera.login();
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    const bot = await createServiceUser(tessera, { orgId: tessera.orgId, username: "cache-bot" });
    const added = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${bot.userId}/rsa-keys`, {
      token: adminToken,
      body: { publicKeyPem: rsa.publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    assert.equal(added.status, 201, added.text);
  });
  after(() => tessera.close());

  it("login, renewal and API-key creation", async () => {
    const member = await createMember(tessera);
    const login = await tessera.request("/user/authenticate", {
      body: { email: member.email, password: memberPassword, selectedOrg: tessera.orgId },
    });
    assertNotCached("POST /user/authenticate", login);
    const renewal = await tessera.request("/user/authenticate", { token: login.body.token });
    assertNotCached("GET /user/authenticate", renewal);
    const key = await tessera.request("/user/apiKey", {
      token: adminToken,
      body: { orgUserId: member.membershipId, name: "cache test" },
    });
    assertNotCached("POST /user/apiKey", key);
    assert.ok(await createApiKey(tessera, adminToken, member.membershipId));
  });

  it("certificate logins on both mutual-TLS listeners", async () => {
    const credentials = await kit.issue({ cn: "cache-bot" });
    const service = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
    });
    assertNotCached("POST /sessionauth/v1/authenticate", service);
    const keyManager = await mtlsRequest(`${tessera.kmMtlsUrl}/keyauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
    });
    assertNotCached("POST /keyauth/v1/authenticate", keyManager);

    const idm = await tessera.request("/login/idm/tokens", {
      method: "POST",
      headers: { sessionToken: service.body.token },
    });
    assertNotCached("POST /login/idm/tokens", idm);
  });

  it("key-pair logins, on the HTTP and the mutual-TLS listeners", async () => {
    for (const path of ["/login/pubkey/authenticate", "/relay/pubkey/authenticate"]) {
      assertNotCached(path, await tessera.request(path, { body: { token: await keyPairToken() } }));
    }
    const relay = await mtlsRequest(`${tessera.kmMtlsUrl}/relay/pubkey/authenticate`, {
      ca: tessera.serverCaPem,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: await keyPairToken() }),
    });
    assertNotCached("POST /relay/pubkey/authenticate (key-manager listener)", relay);
  });

  it("leaves answers without a token to the usual caching rules", async () => {
    const me = await tessera.request("/user/users/me", { token: adminToken });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get("pragma"), null);
  });
});
