import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CertificateKit, type ClientCredentials, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { countAudit, createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";

// One kit for the whole file: RSA-4096 keys take seconds to make.
const kitPromise = makeCertificateKit();

describe("key-manager logout, and service logout that ends both sessions", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let credentials: ClientCredentials;
  let otherCredentials: ClientCredentials;

  const login = async (url: string, path: string, who = credentials): Promise<string> => {
    const response = await mtlsRequest(`${url}${path}`, { ca: tessera.serverCaPem, ...who });
    assert.equal(response.status, 200, response.text);
    return response.body.token;
  };
  const serviceLogin = (who = credentials) => login(tessera.podMtlsUrl, "/sessionauth/v1/authenticate", who);
  const keyManagerLogin = (who = credentials) => login(tessera.kmMtlsUrl, "/keyauth/v1/authenticate", who);
  /** Forward-auth answers 200 exactly while a token of any kind is live. */
  const isLive = async (token: string): Promise<boolean> => {
    const status = (await tessera.request("/auth/forward", { headers: { sessionToken: token } })).status;
    assert.ok(status === 200 || status === 401, `unexpected ${status}`);
    return status === 200;
  };

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), kitPromise]);
    const adminToken = await tessera.login();
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "km-bot" });
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "km-other-bot" });
    credentials = await kit.issue({ cn: "km-bot" });
    otherCredentials = await kit.issue({ cn: "km-other-bot" });
  });
  after(() => tessera.close());

  it("POST /keyauth/v1/logout on the key-manager listener ends the key-manager session (Symphony's shape)", async () => {
    const token = await keyManagerLogin();
    const other = await keyManagerLogin();
    const revokedBefore = await countAudit(tessera, "session.revoked");
    const logout = await mtlsRequest(`${tessera.kmMtlsUrl}/keyauth/v1/logout`, {
      ca: tessera.serverCaPem,
      ...credentials,
      headers: { keyManagerToken: token },
    });
    assert.equal(logout.status, 200, logout.text);
    assert.deepEqual(logout.body, { message: "success" });
    assert.equal(await isLive(token), false);
    // Another instance of the same bot keeps its own key-manager session.
    assert.equal(await isLive(other), true);
    assert.equal(await countAudit(tessera, "session.revoked"), revokedBefore + 1);

    const again = await tessera.request("/keyauth/v1/logout", { method: "POST", headers: { keyManagerToken: token } });
    assert.equal(again.status, 401, again.text);
    assert.deepEqual(again.body, { code: 401, message: again.body.message, reason: "invalid_token" });
  });

  it("is served on the HTTP listener too, and takes the token in Symphony's sessionToken header", async () => {
    const token = await keyManagerLogin();
    const logout = await tessera.request("/keyauth/v1/logout", { method: "POST", headers: { sessionToken: token } });
    assert.equal(logout.status, 200, logout.text);
    assert.equal(await isLive(token), false);
  });

  it("refuses a service token as a key-manager token, and ends nothing", async () => {
    const service = await serviceLogin();
    const refused = await tessera.request("/keyauth/v1/logout", {
      method: "POST",
      headers: { keyManagerToken: service },
    });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(await isLive(service), true);
  });

  it("service logout ends the key-manager session sent beside it, and only that one", async () => {
    const service = await serviceLogin();
    const keyManager = await keyManagerLogin();
    const otherInstance = await keyManagerLogin();
    const logout = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/logout`, {
      ca: tessera.serverCaPem,
      ...credentials,
      headers: { sessionToken: service, keyManagerToken: keyManager },
    });
    assert.equal(logout.status, 200, logout.text);
    assert.equal(await isLive(service), false);
    assert.equal(await isLive(keyManager), false);
    assert.equal(await isLive(otherInstance), true);
  });

  it("service logout alone keeps the user's key-manager sessions (other instances of the bot use them)", async () => {
    const service = await serviceLogin();
    const keyManager = await keyManagerLogin();
    const logout = await tessera.request("/sessionauth/v1/logout", {
      method: "POST",
      headers: { sessionToken: service },
    });
    assert.equal(logout.status, 200, logout.text);
    assert.equal(await isLive(service), false);
    assert.equal(await isLive(keyManager), true);
  });

  it("refuses a key-manager token of another user beside the service token, and ends neither", async () => {
    const service = await serviceLogin();
    const foreign = await keyManagerLogin(otherCredentials);
    const refused = await tessera.request("/sessionauth/v1/logout", {
      method: "POST",
      headers: { sessionToken: service, keyManagerToken: foreign },
    });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.body.reason, "invalid_token");
    assert.equal(await isLive(service), true);
    assert.equal(await isLive(foreign), true);
  });
});
