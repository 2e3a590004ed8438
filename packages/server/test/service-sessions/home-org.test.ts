import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createPubkeyJwt } from "@tessera/client";
import { type CertificateKit, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import {
  addMembership,
  auditEventsOfType,
  createMember,
  createOrg,
  createServiceUser,
  memberPassword,
} from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";

const kitPromise = makeCertificateKit();

/**
 * An org's CAs and RSA keys vouch only for the service users it owns: org 2 linking org 1's bot1
 * and trusting its own CA (or registering its own key) must not make it bot1.
 */
describe("service logins: only the service user's home org vouches for it", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let org2: number;
  let org2Token: string;
  let bot1: { userId: number; membershipId: number };

  const certificateLogin = (credentials: { cert: string; key: string }) =>
    mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, { ca: tessera.serverCaPem, ...credentials });
  const sessionInfo = (token: string) =>
    mtlsRequest(`${tessera.podMtlsUrl}/pod/v2/sessioninfo`, {
      method: "GET",
      ca: tessera.serverCaPem,
      headers: { sessionToken: token, "content-type": "application/json" },
    });

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), kitPromise]);
    const adminToken = await tessera.login();
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    bot1 = await createServiceUser(tessera, { orgId: tessera.orgId, username: "bot1" });

    org2 = await createOrg(tessera);
    const owner = await createMember(tessera, { orgId: org2, role: "owner" });
    org2Token = await tessera.login(owner.email, memberPassword, org2);
    // Org 2 trusts its own CA (one org 1 does not trust).
    const own = await tessera.request(`/admin/orgs/${org2}/trusted-cas`, {
      token: org2Token,
      body: { pem: kit.untrustedRoot.certificatePem },
    });
    assert.equal(own.status, 201, own.text);
  });
  after(() => tessera.close());

  it("refuses org 2 linking bot1 by email and username (409), writing no membership", async () => {
    const linked = await tessera.request(`/admin/orgs/${org2}/users`, {
      token: org2Token,
      body: { email: "bot1@service.example.com", kind: "service", username: "bot1", role: "service" },
    });
    assert.equal(linked.status, 409, linked.text);
    const memberships = await tessera.ctx.db
      .selectFrom("memberships")
      .select("org_id")
      .where("user_id", "=", bot1.userId)
      .execute();
    assert.deepEqual(
      memberships.map((row) => row.org_id),
      [tessera.orgId],
    );
  });

  it("refuses CN=bot1 from org 2's CA even with a membership in org 2; bot1's real login is unaffected", async () => {
    // A membership written directly, as one from before home orgs existed would be.
    await addMembership(tessera, { orgId: org2, userId: bot1.userId, role: "service" });
    const impostor = await certificateLogin(await kit.issue({ cn: "bot1", issuer: kit.untrustedRoot }));
    assert.equal(impostor.status, 403, impostor.text);
    assert.equal(impostor.body.reason, "service_user_not_found");
    const [refusal] = (await auditEventsOfType(tessera, "login.failed")).slice(-1);
    assert.equal(refusal?.org_id, org2);
    assert.equal(refusal?.subject_user_id, null, "org 2's audit does not learn bot1's id");

    const real = await certificateLogin(await kit.issue({ cn: "bot1" }));
    assert.equal(real.status, 200, real.text);
    const info = await sessionInfo(real.body.token);
    assert.equal(info.body.id, bot1.userId);
    const session = await tessera.ctx.db
      .selectFrom("sessions")
      .select("org_id")
      .where("user_id", "=", bot1.userId)
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    assert.equal(session.org_id, tessera.orgId);
  });

  it("ignores an RSA key org 2 registered for bot1: its tokens are refused, bot1's own key works", async () => {
    const org2Key = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const registered = await tessera.request(`/admin/orgs/${org2}/users/${bot1.userId}/rsa-keys`, {
      token: org2Token,
      body: { publicKeyPem: org2Key.publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    assert.equal(registered.status, 201, registered.text);
    const forged = createPubkeyJwt(
      "bot1",
      org2Key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      tessera.clock.now(),
    );
    const refused = await tessera.request("/login/pubkey/authenticate", { body: { token: forged } });
    assert.equal(refused.status, 401, refused.text);

    const ownKey = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const adminToken = await tessera.login();
    const own = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${bot1.userId}/rsa-keys`, {
      token: adminToken,
      body: { publicKeyPem: ownKey.publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    assert.equal(own.status, 201, own.text);
    const token = createPubkeyJwt(
      "bot1",
      ownKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      tessera.clock.now(),
    );
    const accepted = await tessera.request("/login/pubkey/authenticate", { body: { token } });
    assert.equal(accepted.status, 200, accepted.text);
  });
});
