import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser } from "@tessera/test-kit/admin.ts";
import { addBot, type Bot } from "@tessera/test-kit/agent.ts";
import { type CertificateKit, type ClientCredentials, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { FaultProxy } from "@tessera/test-kit/fault-proxy.ts";
import { countRequests } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { Forbidden, InvalidCredentials, ServiceSession, type TesseraClientError } from "../src/index.ts";

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

/** ServiceSession against the REAL server, with key-pair login on the HTTP listener, behind a fault proxy. */
describe("ServiceSession against a real server (key-pair login)", () => {
  let tessera: TestInstance;
  let proxy: FaultProxy;
  let bot: Bot;
  let adminToken = "";

  before(async () => {
    tessera = await startTestInstance();
    proxy = new FaultProxy(tessera.baseUrl);
    await proxy.start();
    adminToken = await tessera.login(adminEmail, adminPassword);
    bot = await addBot(tessera, adminToken);
  });
  after(async () => {
    await proxy.close();
    await tessera.close();
  });

  const authenticate = () =>
    ServiceSession.authenticate({
      podUrl: proxy.url,
      keyPair: { username: bot.username, privateKey: bot.privateKeyPem },
      retry: fastRetry,
    });

  it("logs in on pod and key manager and calls GET /pod/v2/sessioninfo", async () => {
    const session = await authenticate();
    assert.match(session.sessionToken, /^tss_/);
    assert.match(session.keyManagerToken, /^tsm_/);
    const info = await session.fetch("/pod/v2/sessioninfo");
    assert.equal(info.status, 200);
    const body = (await info.json()) as { username: string; accountType: string };
    assert.equal(body.username, bot.username);
    assert.equal(body.accountType, "SYSTEM");
    await session.close();
  });

  it("50 concurrent calls that meet a 401 cause exactly one re-authentication, and all succeed", async () => {
    const session = await authenticate();
    const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${bot.id}/sessions`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(revoked.status, 204);
    const sessionRows = async () =>
      Number(
        (
          await tessera.ctx.db
            .selectFrom("sessions")
            .select((eb) => eb.fn.countAll<number>().as("count"))
            .where("user_id", "=", bot.id)
            .executeTakeFirstOrThrow()
        ).count,
      );
    const rowsBefore = await sessionRows();
    const podBefore = proxy.count("POST /login/pubkey/authenticate");
    const kmBefore = proxy.count("POST /relay/pubkey/authenticate");
    const reasons: string[] = [];
    session.on("authenticated", ({ reason }) => reasons.push(reason));

    const responses = await Promise.all(Array.from({ length: 50 }, () => session.fetch("/pod/v2/sessioninfo")));
    assert.deepEqual(
      responses.map((response) => response.status),
      Array(50).fill(200),
    );
    for (const response of responses) {
      assert.equal(((await response.json()) as { username: string }).username, bot.username);
    }
    assert.deepEqual(reasons, ["unauthorized"]);
    assert.equal(proxy.count("POST /login/pubkey/authenticate") - podBefore, 1);
    assert.equal(proxy.count("POST /relay/pubkey/authenticate") - kmBefore, 1);
    // One pod session and one key-manager session: exactly one login on each.
    assert.equal((await sessionRows()) - rowsBefore, 2);
    await session.close();
  });

  it("retries 503, 429 and a connection reset while authenticating", async () => {
    const podBefore = proxy.count("POST /login/pubkey/authenticate");
    const kmBefore = proxy.count("POST /relay/pubkey/authenticate");
    proxy.failNext("POST /login/pubkey/authenticate", "503", "reset", "429");
    proxy.failNext("POST /relay/pubkey/authenticate", "reset");
    const session = await authenticate();
    assert.equal(proxy.count("POST /login/pubkey/authenticate") - podBefore, 4);
    assert.equal(proxy.count("POST /relay/pubkey/authenticate") - kmBefore, 2);
    assert.equal((await session.fetch("/pod/v2/sessioninfo")).status, 200);
    await session.close();
  });

  it("never retries a refused login (unknown username)", async () => {
    const before = proxy.count("POST /login/pubkey/authenticate");
    const error = await ServiceSession.authenticate({
      podUrl: proxy.url,
      keyPair: { username: "nobody-bot", privateKey: bot.privateKeyPem },
      retry: fastRetry,
    }).then(
      () => assert.fail("logged in as an unknown service user"),
      (failure: TesseraClientError) => failure,
    );
    assert.ok(error.status === 401 || error.status === 403);
    assert.equal(proxy.count("POST /login/pubkey/authenticate") - before, 1);
  });
});

/**
 * ServiceSession against the REAL server's mutual-TLS listeners, in strict mode: the server
 * refuses any body and any Content-Type on the authenticate calls.
 */
describe("ServiceSession against a real server (client certificate over mutual TLS)", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let credentials: ClientCredentials;
  const username = "cert-bot";

  before(async () => {
    [tessera, kit] = await Promise.all([
      startTestInstance({ mtls: true, env: { TESSERA_SESSIONAUTH_STRICT_CONTENT_TYPE: "true" } }),
      makeCertificateKit(),
    ]);
    const adminToken = await tessera.login(adminEmail, adminPassword);
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: kit.root.certificatePem },
    });
    assert.equal(trusted.status, 201, trusted.text);
    await addUser(tessera, adminToken, { kind: "service", username, role: "service" });
    credentials = await kit.issue({ cn: username });
  });
  after(() => tessera.close());

  const authenticate = (certificate: ClientCredentials) =>
    ServiceSession.authenticate({
      podUrl: tessera.baseUrl,
      sessionAuthUrl: tessera.podMtlsUrl,
      keyManagerUrl: tessera.kmMtlsUrl,
      ca: tessera.serverCaPem,
      certificate,
      retry: fastRetry,
    });

  const attempts = () =>
    Promise.all([
      countRequests(tessera, "POST", "/sessionauth/v1/authenticate"),
      countRequests(tessera, "POST", "/keyauth/v1/authenticate"),
    ]);

  /**
   * Pod and key manager are asked in parallel, and the server counts a request once answered:
   * waits until both answered, then long enough for a retry (1 to 5 ms away) to be answered too.
   */
  async function attemptsAfterRefusal(before: number[]): Promise<number[]> {
    const started = performance.now();
    const made = async () => (await attempts()).map((count, index) => count - (before[index] ?? 0));
    while ((await made()).some((count) => count === 0)) {
      if (performance.now() - started > 10_000) assert.fail("the refused logins were never answered");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    return made();
  }

  it("presents the certificate to pod and key manager with no body and no Content-Type, and sends both tokens", async () => {
    // The control: this server refuses a Content-Type on the authenticate call.
    const typed = await mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, {
      ca: tessera.serverCaPem,
      ...credentials,
      headers: { "content-type": "application/json" },
    });
    assert.equal(typed.status, 400, typed.text);
    assert.equal(typed.body.reason, "request_body_not_allowed");

    const session = await authenticate(credentials);
    assert.match(session.sessionToken, /^tss_/);
    assert.match(session.keyManagerToken, /^tsm_/);
    const info = await session.fetch("/pod/v2/sessioninfo");
    assert.equal(info.status, 200);
    assert.equal(((await info.json()) as { username: string }).username, username);
    // The agent API wants the session token and the key-manager token of one user.
    const feeds = await session.fetch("/agent/v5/datafeeds");
    assert.equal(feeds.status, 200, await feeds.clone().text());
    assert.ok(Array.isArray(await feeds.json()));
    await session.close();
  });

  it("never retries a refused login: a certificate no org trusts is InvalidCredentials (401 certificate_untrusted)", async () => {
    const stranger = await kit.issue({ cn: username, issuer: kit.untrustedRoot });
    const before = await attempts();
    const error = await authenticate(stranger).then(
      () => assert.fail("authenticated with an untrusted certificate"),
      (failure: TesseraClientError) => failure,
    );
    assert.ok(error instanceof InvalidCredentials);
    assert.equal(error.status, 401);
    assert.equal(error.reason, "certificate_untrusted");
    assert.deepEqual(await attemptsAfterRefusal(before), [1, 1]);
  });

  it("never retries a refused login: a CN that names no service user is Forbidden (403 service_user_not_found)", async () => {
    const nobody = await kit.issue({ cn: "nobody-bot" });
    const before = await attempts();
    const error = await authenticate(nobody).then(
      () => assert.fail("authenticated as no service user"),
      (failure: TesseraClientError) => failure,
    );
    assert.ok(error instanceof Forbidden);
    assert.equal(error.status, 403);
    assert.equal(error.code, "service_user_not_found");
    assert.deepEqual(await attemptsAfterRefusal(before), [1, 1]);
  });
});
