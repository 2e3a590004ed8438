import assert from "node:assert/strict";
import { generateKeyPair } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { FaultProxy } from "@tessera/test-kit/fault-proxy.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { ServiceSession, type TesseraClientError } from "../src/index.ts";

/** ServiceSession against the REAL server, with key-pair login on the HTTP listener. */
describe("ServiceSession against a real server (key-pair login)", () => {
  let tessera: TestInstance;
  let proxy: FaultProxy;
  let username = "";
  let privateKeyPem = "";
  let serviceUserId = 0;
  let adminToken = "";

  before(async () => {
    tessera = await startTestInstance();
    proxy = new FaultProxy(tessera.baseUrl);
    await proxy.start();
    adminToken = await tessera.login(adminEmail, adminPassword);
    const keys = await promisify(generateKeyPair)("rsa", { modulusLength: 4096 });
    privateKeyPem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    username = "sdk-bot";
    const user = await tessera.request(`/admin/orgs/${tessera.orgId}/users`, {
      token: adminToken,
      body: { email: "sdk-bot@example.com", role: "service", kind: "service", username },
    });
    assert.equal(user.status, 201, user.text);
    serviceUserId = user.body.id;
    const key = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${serviceUserId}/rsa-keys`, {
      token: adminToken,
      body: { publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    assert.ok(key.status === 200 || key.status === 201, key.text);
  });
  after(async () => {
    await proxy.close();
    await tessera.close();
  });

  const authenticate = () =>
    ServiceSession.authenticate({
      podUrl: proxy.url,
      keyPair: { username, privateKey: privateKeyPem },
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });

  it("logs in on pod and key manager and calls GET /pod/v2/sessioninfo", async () => {
    const session = await authenticate();
    assert.match(session.sessionToken, /^tss_/);
    assert.match(session.keyManagerToken, /^tsm_/);
    const info = await session.fetch("/pod/v2/sessioninfo");
    assert.equal(info.status, 200);
    const body = (await info.json()) as { username: string; accountType: string };
    assert.equal(body.username, username);
    assert.equal(body.accountType, "SYSTEM");
    await session.close();
  });

  it("50 concurrent calls that meet a 401 cause exactly one re-authentication", async () => {
    const session = await authenticate();
    const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${serviceUserId}/sessions`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(revoked.status, 204);
    const podBefore = proxy.count("POST /login/pubkey/authenticate");
    const kmBefore = proxy.count("POST /relay/pubkey/authenticate");
    const responses = await Promise.all(Array.from({ length: 50 }, () => session.fetch("/pod/v2/sessioninfo")));
    assert.deepEqual(
      responses.map((response) => response.status),
      Array(50).fill(200),
    );
    await Promise.all(responses.map((response) => response.body?.cancel()));
    assert.equal(proxy.count("POST /login/pubkey/authenticate") - podBefore, 1);
    assert.equal(proxy.count("POST /relay/pubkey/authenticate") - kmBefore, 1);
    await session.close();
  });

  it("never retries a refused login (unknown username)", async () => {
    const before = proxy.count("POST /login/pubkey/authenticate");
    const error = await ServiceSession.authenticate({
      podUrl: proxy.url,
      keyPair: { username: "nobody-bot", privateKey: privateKeyPem },
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    }).then(
      () => assert.fail("logged in as an unknown service user"),
      (failure: TesseraClientError) => failure,
    );
    assert.ok(error.status === 401 || error.status === 403);
    assert.equal(proxy.count("POST /login/pubkey/authenticate") - before, 1);
  });
});
