import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CertificateKit, type ClientCredentials, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { putSessionPolicy } from "../../src/policies/policies.ts";
import { revokeSessions } from "../../src/sessions/revoke-sessions.ts";

// One kit for the whole file: RSA-4096 keys take seconds to make.
const kitPromise = makeCertificateKit();

describe("service session lifecycle", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let adminToken: string;
  let credentials: ClientCredentials;
  let userId: number;
  let membershipId: number;
  let trustedCaId: number;

  const authenticate = () =>
    mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, { ca: tessera.serverCaPem, ...credentials });
  const openSession = async (): Promise<string> => {
    const response = await authenticate();
    assert.equal(response.status, 200, response.text);
    return response.body.token;
  };
  /** sessioninfo on the plain HTTP listener, with the header Symphony's clients send. */
  const sessionInfo = (token: string) =>
    tessera.request("/pod/v2/sessioninfo", { headers: { sessionToken: token, "content-type": "application/json" } });

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), kitPromise]);
    adminToken = await tessera.login();
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    trustedCaId = trusted.body.id;
    ({ userId, membershipId } = await createServiceUser(tessera, {
      orgId: tessera.orgId,
      username: "life-bot",
    }));
    credentials = await kit.issue({ cn: "life-bot" });
  });
  after(() => tessera.close());

  it("lasts the org's service-session lifetime (default 24 h), with no renewal, then answers 401", async () => {
    const token = await openSession();
    await tessera.clock.advanceSeconds(86_400 - 1);
    assert.equal((await sessionInfo(token)).status, 200);
    await tessera.clock.advanceSeconds(1);
    const expired = await sessionInfo(token);
    assert.equal(expired.status, 401);
    assert.equal(expired.body.reason, "invalid_token");
    assert.equal(expired.body.code, 401);
  });

  it("follows the org's session policy (here one hour)", async () => {
    await putSessionPolicy(tessera.ctx.db, tessera.orgId, {
      userIdleSeconds: 900,
      userAbsoluteSeconds: 86_400,
      serviceSessionSeconds: 3600,
      renewGraceSeconds: 30,
    });
    const token = await openSession();
    const row = await tessera.ctx.db
      .selectFrom("sessions")
      .select(["expires_at", "absolute_expires_at", "created_at"])
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    assert.equal(row.expires_at - row.created_at, 3_600_000);
    assert.equal(row.absolute_expires_at, row.expires_at);
    await tessera.clock.advanceSeconds(3599);
    assert.equal((await sessionInfo(token)).status, 200);
    await tessera.clock.advanceSeconds(1);
    assert.equal((await sessionInfo(token)).status, 401);
  });

  it("logs out: 200 {message}, then the token answers 401", async () => {
    const token = await openSession();
    const logout = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/logout`, {
      ca: tessera.serverCaPem,
      headers: { sessionToken: token, "content-type": "application/json" },
    });
    assert.equal(logout.status, 200, logout.text);
    assert.equal(typeof logout.body.message, "string");
    assert.equal((await sessionInfo(token)).status, 401);
    const again = await tessera.request("/sessionauth/v1/logout", { method: "POST", headers: { sessionToken: token } });
    assert.equal(again.status, 401);
    assert.equal(again.body.reason, "invalid_token");
  });

  it("answers 401 invalid_token for a missing, malformed or unknown session token", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { sessionToken: "nonsense" },
      { sessionToken: `tss_${"A".repeat(43)}` },
    ];
    for (const headers of attempts) {
      const response = await tessera.request("/pod/v2/sessioninfo", { headers });
      assert.equal(response.status, 401);
      assert.equal(response.body.reason, "invalid_token");
      // RFC 6750, as for user sessions: error="invalid_token" only when a token was presented.
      const challenge = response.headers.get("www-authenticate") ?? "";
      assert.equal(challenge.includes('error="invalid_token"'), headers.sessionToken !== undefined, challenge);
    }
  });

  it("ends when an admin revokes the user's sessions (next request 401), key-manager sessions included", async () => {
    const token = await openSession();
    const km = await mtlsRequest(`${tessera.kmMtlsUrl}/keyauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
    });
    assert.equal(km.status, 200);
    const revoked = await revokeSessions(
      tessera.ctx,
      { orgId: tessera.orgId, userId },
      { actorUserId: 1, reason: "admin", ip: null },
    );
    assert.ok(revoked >= 2);
    assert.equal((await sessionInfo(token)).status, 401);
    const kmRow = await tessera.ctx.db
      .selectFrom("sessions")
      .select("revoked_at")
      .where("kind", "=", "keymanager")
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    assert.notEqual(kmRow.revoked_at, null);
  });

  it("ends when the membership is deactivated, and no new session opens (403 service_user_not_found)", async () => {
    const token = await openSession();
    await tessera.ctx.db.updateTable("memberships").set({ active: 0 }).where("id", "=", membershipId).execute();
    assert.equal((await sessionInfo(token)).status, 401);
    const refused = await authenticate();
    assert.equal(refused.status, 403);
    assert.equal(refused.body.reason, "service_user_not_found");
    await tessera.ctx.db.updateTable("memberships").set({ active: 1 }).where("id", "=", membershipId).execute();
  });

  it("stops accepting certificates of a CA the moment it is removed, and again after it is re-added (no restart)", async () => {
    assert.equal((await authenticate()).status, 200);
    adminToken = await tessera.login(); // the clock has moved past the first admin session
    const removed = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas/${trustedCaId}`, {
      method: "DELETE",
      token: adminToken,
      headers: { "content-type": "application/json" },
    });
    assert.equal(removed.status, 204, removed.text);
    const refused = await authenticate();
    assert.equal(refused.status, 401);
    assert.equal(refused.body.reason, "certificate_untrusted");
    const readded = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(readded.status, 201);
    trustedCaId = readded.body.id;
    assert.equal((await authenticate()).status, 200);
  });

  it("records session creation and revocation in the audit log", async () => {
    const events = await tessera.ctx.db
      .selectFrom("audit_events")
      .select(["type", "data"])
      .where("subject_user_id", "=", userId)
      .execute();
    const created = events.filter((event) => event.type === "session.created").map((event) => JSON.parse(event.data));
    assert.ok(created.some((data) => data.kind === "service" && data.method === "certificate"));
    assert.ok(created.some((data) => data.kind === "keymanager"));
    assert.ok(events.some((event) => event.type === "session.revoked"));
  });
});

describe("trusted CA administration", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let adminToken: string;

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance(), kitPromise]);
    adminToken = await tessera.login();
  });
  after(() => tessera.close());

  it("adds, lists and removes a CA, with subject and SHA-256 fingerprint, audited", async () => {
    const added = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.subject, "CN=Test Root CA");
    assert.match(added.body.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const list = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, { token: adminToken });
    assert.deepEqual(
      list.body.map((ca: { id: number }) => ca.id),
      [added.body.id],
    );
    const duplicate = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.body.code, "conflict");
    const audit = await tessera.ctx.db
      .selectFrom("audit_events")
      .select("type")
      .where("type", "=", "trusted_ca.added")
      .execute();
    assert.equal(audit.length, 1);
  });

  it("refuses a leaf (non-CA) certificate and garbage with 400 invalid_certificate, storing nothing", async () => {
    const leaf = await kit.issue({ cn: "not-a-ca" });
    for (const pem of [leaf.cert, "garbage"]) {
      const response = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
        token: adminToken,
        body: { pem },
      });
      assert.equal(response.status, 400);
      assert.equal(response.body.code, "invalid_certificate");
    }
    const list = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, { token: adminToken });
    assert.equal(list.body.length, 1);
  });

  it("refuses a bundle of several certificates rather than keep only the first, and reads openssl's text output", async () => {
    const bundle = `${kit.weakRoot.certificatePem.trim()}\n${kit.untrustedRoot.certificatePem.trim()}\n`;
    const refused = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: bundle },
    });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.code, "invalid_certificate");
    assert.match(refused.body.detail, /found 2/);
    const list = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, { token: adminToken });
    assert.equal(list.body.length, 1, "nothing stored");

    // `openssl x509 -text` prints a description before the PEM block.
    const withText = `Certificate:\n    Data:\n        Version: 3 (0x2)\n${kit.weakRoot.certificatePem}`;
    const added = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: withText },
    });
    assert.equal(added.status, 201, added.text);
    assert.match(added.body.subject, /Weak Root CA/);
    const removed = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas/${added.body.id}`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(removed.status, 204);
  });

  it("needs a token of an admin of that org: 401 without, 403 for another org, 404 for an unknown CA", async () => {
    const anonymous = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, "invalid_token");
    const otherOrg = await tessera.request(`/admin/orgs/${tessera.orgId + 1}/trusted-cas`, { token: adminToken });
    assert.equal(otherOrg.status, 403);
    assert.equal(otherOrg.body.code, "forbidden");
    const unknown = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas/9999`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, "not_found");
  });
});
