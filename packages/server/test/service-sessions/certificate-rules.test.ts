import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createSecondOrg } from "@tessera/test-kit/admin.ts";
import { type CertificateKit, type ClientCredentials, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { auditEventsOfType, createOrg, createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { createCaCertificate, validFor } from "../../src/certificates/generate.ts";

const day = 86_400_000;

// One kit for the whole file: RSA-4096 keys take seconds to make.
const kitPromise = makeCertificateKit();

describe("service sessions over mutual TLS: certificate rules", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let adminToken: string;
  let good: ClientCredentials;

  const authenticate = (
    credentials: Partial<ClientCredentials>,
    init: { headers?: Record<string, string>; body?: string } = {},
  ) =>
    mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
      ...init,
    });

  const assertRefused = (response: Awaited<ReturnType<typeof authenticate>>, status: number, reason: string) => {
    assert.equal(response.status, status, response.text);
    assert.equal(response.body.code, status, "Symphony's error shape: code is the HTTP status");
    assert.equal(response.body.reason, reason);
    assert.equal(typeof response.body.message, "string");
  };

  const sessionCount = async () =>
    Number(
      (
        await tessera.ctx.db
          .selectFrom("sessions")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("kind", "in", ["service", "keymanager"])
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), kitPromise]);
    adminToken = await tessera.login();
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    const weak = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.weakRoot.certificatePem },
    });
    assert.equal(weak.status, 201, weak.text);
    for (const username of ["bot-one", "weak-bot", "ec-bot", "app-bot"]) {
      await createServiceUser(tessera, { orgId: tessera.orgId, username });
    }
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "retired-bot", active: false });
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "left-bot", membershipActive: false });
    good = await kit.issue({ cn: "bot-one" });
  });
  after(() => tessera.close());

  it("accepts an RSA-4096 certificate under a trusted RSA-4096 root: a session token and an authorization token", async () => {
    const response = await authenticate(good);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.name, "sessionToken");
    assert.match(response.body.token, /^tss_[A-Za-z0-9_-]{43}$/);
    assert.equal(response.body.authorizationToken.split(".").length, 3);
    const info = await mtlsRequest(`${tessera.podMtlsUrl}/pod/v2/sessioninfo`, {
      method: "GET",
      ca: tessera.serverCaPem,
      headers: { sessionToken: response.body.token, "content-type": "application/json" },
    });
    assert.equal(info.status, 200, info.text);
    assert.equal(info.body.username, "bot-one");
    assert.equal(info.body.accountType, "SYSTEM");
    assert.equal(typeof info.body.id, "number");
    assert.equal(info.body.emailAddress, "bot-one@service.example.com");
    assert.deepEqual(info.body.roles, ["service"]);
    // Only the hash is stored.
    const stored = await tessera.ctx.db.selectFrom("session_tokens").select("token_hash").execute();
    assert.ok(stored.every((row) => !row.token_hash.includes(response.body.token.slice(4))));
  });

  it("accepts Content-Type: application/json with an empty body (Symphony's own clients send it)", async () => {
    const response = await authenticate(good, {
      headers: { "content-type": "application/json", "content-length": "0" },
    });
    assert.equal(response.status, 200, response.text);
  });

  it("refuses a request with a body: 400 request_body_not_allowed", async () => {
    const before = await sessionCount();
    const response = await authenticate(good, { headers: { "content-type": "application/json" }, body: "{}" });
    assertRefused(response, 400, "request_body_not_allowed");
    const text = await authenticate(good, { headers: { "content-type": "text/plain" }, body: "hello" });
    assertRefused(text, 400, "request_body_not_allowed");
    assert.equal(await sessionCount(), before, "no session was opened");
  });

  it("accepts a chain through an intermediate the client sends", async () => {
    const intermediate = await kit.intermediate(kit.root, "Test Intermediate CA");
    const credentials = await kit.issue({
      cn: "bot-one",
      issuer: intermediate,
      withChain: [intermediate.certificatePem],
    });
    const response = await authenticate(credentials);
    assert.equal(response.status, 200, response.text);
  });

  it("checks the root the client sends above a trusted intermediate: 403 when it is RSA-2048", async () => {
    // An org that trusts only an RSA-4096 intermediate whose own root is RSA-2048 and trusted by no org.
    const { orgId, token } = await createSecondOrg(tessera, adminToken, "Trusts an intermediate");
    const weakKeys = kit.weakRoot.keys;
    const unseenRoot = {
      keys: weakKeys,
      certificatePem: await createCaCertificate({
        keys: weakKeys,
        commonName: "Weak root no org trusts",
        validity: validFor(365),
      }),
    };
    const intermediate = await kit.intermediate(unseenRoot, "Intermediate under a weak root");
    const trusted = await tessera.request(`/admin/orgs/${orgId}/trusted-cas`, {
      token,
      body: { pem: intermediate.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    await createServiceUser(tessera, { orgId, username: "under-intermediate-bot" });
    const withRoot = await kit.issue({
      cn: "under-intermediate-bot",
      issuer: intermediate,
      withChain: [intermediate.certificatePem, unseenRoot.certificatePem],
    });
    const refused = await authenticate(withRoot);
    assertRefused(refused, 403, "certificate_key_too_weak");
    assert.match(refused.body.message, /root has a RSA 2048 bits/);
    // Not sent, the root is unknown: the chain ends at the trusted intermediate, strong enough.
    const withoutRoot = await kit.issue({
      cn: "under-intermediate-bot",
      issuer: intermediate,
      withChain: [intermediate.certificatePem],
    });
    assert.equal((await authenticate(withoutRoot)).status, 200);
  });

  it("opens a key-manager session on the key-manager listener with the same certificate", async () => {
    const response = await mtlsRequest(`${tessera.kmMtlsUrl}/keyauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...good,
    });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.name, "keyManagerToken");
    assert.match(response.body.token, /^tsm_[A-Za-z0-9_-]{43}$/);
  });

  it("refuses a handshake without a client certificate: 401 client_certificate_required", async () => {
    assertRefused(await authenticate({}), 401, "client_certificate_required");
    const km = await mtlsRequest(`${tessera.kmMtlsUrl}/keyauth/v1/authenticate`, { ca: tessera.serverCaPem });
    assertRefused(km, 401, "client_certificate_required");
  });

  it("answers 401 client_certificate_required on the plain HTTP listener", async () => {
    const response = await tessera.request("/sessionauth/v1/authenticate", { method: "POST" });
    assert.equal(response.status, 401);
    assert.equal(response.body.reason, "client_certificate_required");
  });

  it("refuses a certificate from a CA no org trusts: 401 certificate_untrusted", async () => {
    const credentials = await kit.issue({ cn: "bot-one", issuer: kit.untrustedRoot });
    assertRefused(await authenticate(credentials), 401, "certificate_untrusted");
    // Sending the untrusted root along does not help.
    const withRoot = await kit.issue({
      cn: "bot-one",
      issuer: kit.untrustedRoot,
      withChain: [kit.untrustedRoot.certificatePem],
    });
    assertRefused(await authenticate(withRoot), 401, "certificate_untrusted");
  });

  it("refuses an expired certificate: 401 certificate_expired", async () => {
    const now = tessera.clock.now();
    const credentials = await kit.issue({
      cn: "bot-one",
      validity: { notBefore: new Date(now - 10 * day), notAfter: new Date(now - day) },
    });
    assertRefused(await authenticate(credentials), 401, "certificate_expired");
  });

  it("refuses a certificate that is not yet valid: 401 certificate_not_yet_valid", async () => {
    const now = tessera.clock.now();
    const credentials = await kit.issue({
      cn: "bot-one",
      validity: { notBefore: new Date(now + day), notAfter: new Date(now + 10 * day) },
    });
    assertRefused(await authenticate(credentials), 401, "certificate_not_yet_valid");
  });

  it("refuses an RSA-2048 leaf: 403 certificate_key_too_weak", async () => {
    const credentials = await kit.issue({ cn: "weak-bot", key: "rsa2048" });
    assertRefused(await authenticate(credentials), 403, "certificate_key_too_weak");
  });

  it("refuses an RSA-4096 leaf under an RSA-2048 root: 403 certificate_key_too_weak", async () => {
    const credentials = await kit.issue({ cn: "bot-one", issuer: kit.weakRoot });
    const response = await authenticate(credentials);
    assertRefused(response, 403, "certificate_key_too_weak");
    assert.match(response.body.message, /root/);
  });

  it("records a refusal as login.failed in the org that trusts the certificate, naming the CN", async () => {
    const failures = () => auditEventsOfType(tessera, "login.failed");
    const before = (await failures()).length;
    assertRefused(
      await authenticate(await kit.issue({ cn: "weak-bot", key: "rsa2048" })),
      403,
      "certificate_key_too_weak",
    );
    const recorded = (await failures()).slice(before);
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]?.org_id, tessera.orgId);
    assert.equal(typeof recorded[0]?.subject_user_id, "number");
    assert.deepEqual(recorded[0]?.data, {
      reason: "certificate_key_too_weak",
      method: "certificate",
      username: "weak-bot",
    });
  });

  it("refuses an EC leaf: 403 certificate_key_too_weak", async () => {
    const credentials = await kit.issue({ cn: "ec-bot", key: "ec" });
    assertRefused(await authenticate(credentials), 403, "certificate_key_too_weak");
  });

  it("refuses a CN that is not an active service user in an active membership: 403 service_user_not_found", async () => {
    for (const cn of ["nobody", "retired-bot", "left-bot", "admin@example.com"]) {
      const credentials = await kit.issue({ cn });
      assertRefused(await authenticate(credentials), 403, "service_user_not_found");
    }
  });

  it("refuses a service user of another org whose CA this certificate's org does not trust", async () => {
    const otherOrg = await createOrg(tessera, "Other org");
    await createServiceUser(tessera, { orgId: otherOrg, username: "other-org-bot" });
    const credentials = await kit.issue({ cn: "other-org-bot" });
    assertRefused(await authenticate(credentials), 403, "service_user_not_found");
  });

  describe("an application of the same name", () => {
    let appId: number;
    let credentials: ClientCredentials;
    let manifest: string;

    before(async () => {
      credentials = await kit.issue({ cn: "app-bot" });
      manifest = (await kit.issue({ cn: "app-bot-manifest", key: "rsa2048" })).cert;
    });

    it("refuses the service user while the app is enabled, not marked for deletion and has a valid manifest certificate", async () => {
      const created = await tessera.request(`/admin/orgs/${tessera.orgId}/apps`, {
        token: adminToken,
        body: { name: "app-bot", manifestCertificatePem: manifest, enabled: true },
      });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.hasManifestCertificate, true);
      appId = created.body.id;
      assertRefused(await authenticate(credentials), 403, "application_name_conflict");
    });

    it("allows it when the app is disabled", async () => {
      const patched = await tessera.request(`/admin/orgs/${tessera.orgId}/apps/${appId}`, {
        method: "PATCH",
        token: adminToken,
        body: { enabled: false },
      });
      assert.equal(patched.status, 200, patched.text);
      assert.equal((await authenticate(credentials)).status, 200);
    });

    it("allows it when the app is marked for deletion", async () => {
      await tessera.request(`/admin/orgs/${tessera.orgId}/apps/${appId}`, {
        method: "PATCH",
        token: adminToken,
        body: { enabled: true, markedForDeletion: true },
      });
      assert.equal((await authenticate(credentials)).status, 200);
      await tessera.request(`/admin/orgs/${tessera.orgId}/apps/${appId}`, {
        method: "PATCH",
        token: adminToken,
        body: { markedForDeletion: false },
      });
      assertRefused(await authenticate(credentials), 403, "application_name_conflict");
    });

    it("allows it when the manifest certificate is absent or no longer valid", async () => {
      const other = await createServiceUser(tessera, { orgId: tessera.orgId, username: "plain-app-bot" });
      assert.ok(other.userId > 0);
      const noManifest = await tessera.request(`/admin/orgs/${tessera.orgId}/apps`, {
        token: adminToken,
        body: { name: "plain-app-bot", enabled: true },
      });
      assert.equal(noManifest.status, 201);
      assert.equal((await authenticate(await kit.issue({ cn: "plain-app-bot" }))).status, 200);

      const now = tessera.clock.now();
      await createServiceUser(tessera, { orgId: tessera.orgId, username: "expired-app-bot" });
      const expiredManifest = (
        await kit.issue({
          cn: "expired-app-bot",
          key: "rsa2048",
          validity: { notBefore: new Date(now - 10 * day), notAfter: new Date(now - day) },
        })
      ).cert;
      const expired = await tessera.request(`/admin/orgs/${tessera.orgId}/apps`, {
        token: adminToken,
        body: { name: "expired-app-bot", manifestCertificatePem: expiredManifest, enabled: true },
      });
      assert.equal(expired.status, 201);
      assert.equal((await authenticate(await kit.issue({ cn: "expired-app-bot" }))).status, 200);
    });

    it("refuses a manifest that is not a certificate with 400 invalid_certificate and stores nothing", async () => {
      const response = await tessera.request(`/admin/orgs/${tessera.orgId}/apps`, {
        token: adminToken,
        body: { name: "broken", manifestCertificatePem: "not a pem", enabled: true },
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.code, "invalid_certificate");
      const list = await tessera.request(`/admin/orgs/${tessera.orgId}/apps`, { token: adminToken });
      assert.ok(!list.body.some((app: { name: string }) => app.name === "broken"));
    });
  });
});

describe("the strict Content-Type setting", () => {
  let tessera: TestInstance;
  let credentials: ClientCredentials;
  let kit: CertificateKit;

  before(async () => {
    [tessera, kit] = await Promise.all([
      startTestInstance({ mtls: true, env: { TESSERA_SESSIONAUTH_STRICT_CONTENT_TYPE: "true" } }),
      makeCertificateKit(),
    ]);
    const adminToken = await tessera.login();
    await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "strict-bot" });
    credentials = await kit.issue({ cn: "strict-bot", validity: validFor(1) });
  });
  after(() => tessera.close());

  it("refuses Content-Type: application/json even with an empty body", async () => {
    const response = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
      headers: { "content-type": "application/json", "content-length": "0" },
    });
    assert.equal(response.status, 400, response.text);
    assert.equal(response.body.reason, "request_body_not_allowed");
  });

  it("accepts a request with no Content-Type and no body", async () => {
    const response = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
    });
    assert.equal(response.status, 200, response.text);
  });
});
