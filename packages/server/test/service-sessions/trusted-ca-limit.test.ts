import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createSecondOrg } from "@tessera/test-kit/admin.ts";
import { type CertificateKit, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { readExtensions } from "../../src/certificates/certificate-extensions.ts";
import { createCaCertificate, validFor } from "../../src/certificates/generate.ts";

describe("trusted CAs: a per-organisation limit", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let adminToken: string;

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), makeCertificateKit()]);
    adminToken = await tessera.login();
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "bot1" });
  });
  after(() => tessera.close());

  it("refuses the 51st CA of an org with 409 trusted_ca_limit_reached; look-alikes in org 2 leave org 1's login alone", async () => {
    const { orgId, token } = await createSecondOrg(tessera, adminToken, "Uploads look-alikes");
    // Same subject and subjectKeyIdentifier as org 1's CA, another key.
    const subjectKeyId = readExtensions(new X509Certificate(kit.root.certificatePem)).subjectKeyId;
    // An RSA key, as the CA's: node tries a candidate issuer only when its key type fits the signature.
    const keys = kit.weakRoot.keys;
    const lookAlike = () =>
      createCaCertificate({ keys, commonName: "Test Root CA", validity: validFor(365), subjectKeyId });
    for (let index = 0; index < 50; index++) {
      const added = await tessera.request(`/admin/orgs/${orgId}/trusted-cas`, {
        token,
        body: { pem: await lookAlike() },
      });
      assert.equal(added.status, 201, added.text);
    }
    const refused = await tessera.request(`/admin/orgs/${orgId}/trusted-cas`, {
      token,
      body: { pem: await lookAlike() },
    });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.code, "trusted_ca_limit_reached");
    const list = await tessera.request(`/admin/orgs/${orgId}/trusted-cas`, { token });
    assert.equal(list.body.length, 50, "nothing was written");
    const credentials = await kit.issue({ cn: "bot1" });
    // Count the signature checks of one login: the look-alikes of org 2 must not be tried.
    const verify = X509Certificate.prototype.verify;
    let checks = 0;
    X509Certificate.prototype.verify = function (this: X509Certificate, key) {
      checks++;
      return verify.call(this, key);
    };
    try {
      const login = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, {
        ca: tessera.serverCaPem,
        ...credentials,
      });
      assert.equal(login.status, 200, login.text);
    } finally {
      X509Certificate.prototype.verify = verify;
    }
    assert.ok(checks <= 2, `${checks} signature checks for one login`);
  });
});
