import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ContractStandIn } from "@tessera/test-kit/contract-stand-in.ts";
import { createTestPki, type TestPki } from "@tessera/test-kit/test-certificates.ts";
import {
  createPubkeyJwt,
  Forbidden,
  InvalidCredentials,
  ServiceSession,
  type TesseraClientError,
} from "../src/index.ts";

const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

// Runs against a STAND-IN of the service-session endpoints (see contract-stand-in.ts) over real
// mutual TLS with real certificates; service-session.test.ts runs the same rules against Tessera.
describe("ServiceSession with a client certificate (contract stand-in over real mTLS)", () => {
  let pki: TestPki;
  let standIn: ContractStandIn;
  before(async () => {
    pki = createTestPki("billing-bot");
    standIn = new ContractStandIn(pki);
    await standIn.start();
  });
  after(() => standIn.close());

  const authenticate = (certificate = { cert: pki.clientCertPem, key: pki.clientKeyPem }) =>
    ServiceSession.authenticate({
      podUrl: standIn.url,
      sessionAuthUrl: standIn.url,
      keyManagerUrl: standIn.url,
      ca: pki.caPem,
      certificate,
      retry: fastRetry,
    });

  it("presents the certificate to pod and key manager, with no body and no Content-Type, and sends both tokens", async () => {
    standIn.authenticateContentTypes.length = 0;
    const session = await authenticate();
    assert.match(session.sessionToken, /^tss_/);
    assert.match(session.keyManagerToken, /^tsm_/);
    assert.deepEqual(standIn.authenticateContentTypes, [undefined, undefined]);
    const info = await session.fetch("/pod/v2/sessioninfo");
    assert.equal(info.status, 200);
    assert.equal(((await info.json()) as { username: string }).username, "bot");
    await session.close();
  });

  it("50 concurrent calls that meet a 401 cause exactly one re-authentication, and all succeed", async () => {
    const session = await authenticate();
    standIn.revokeAllSessions();
    const podBefore = standIn.count("POST /sessionauth/v1/authenticate");
    const kmBefore = standIn.count("POST /keyauth/v1/authenticate");
    const responses = await Promise.all(Array.from({ length: 50 }, () => session.fetch("/pod/v2/sessioninfo")));
    assert.deepEqual(
      responses.map((response) => response.status),
      Array(50).fill(200),
    );
    await Promise.all(responses.map((response) => response.body?.cancel()));
    assert.equal(standIn.count("POST /sessionauth/v1/authenticate") - podBefore, 1);
    assert.equal(standIn.count("POST /keyauth/v1/authenticate") - kmBefore, 1);
    await session.close();
  });

  it("retries 503, 429 and a connection reset while authenticating", async () => {
    const before = standIn.count("POST /sessionauth/v1/authenticate");
    standIn.failNext("POST /sessionauth/v1/authenticate", "503", "reset", "429");
    const session = await authenticate();
    assert.equal(standIn.count("POST /sessionauth/v1/authenticate") - before, 4);
    await session.close();
  });

  it("never retries a refused login: an untrusted certificate is InvalidCredentials (401), a 403 is Forbidden", async () => {
    const before = standIn.count("POST /sessionauth/v1/authenticate");
    const untrusted = await authenticate({ cert: pki.strangerCertPem, key: pki.strangerKeyPem }).then(
      () => assert.fail("authenticated with an untrusted certificate"),
      (error: TesseraClientError) => error,
    );
    assert.ok(untrusted instanceof InvalidCredentials);
    assert.equal(untrusted.status, 401);
    assert.equal(untrusted.reason, "client_certificate_required");
    assert.equal(standIn.count("POST /sessionauth/v1/authenticate") - before, 1);

    standIn.failNext("POST /keyauth/v1/authenticate", "403");
    const kmBefore = standIn.count("POST /keyauth/v1/authenticate");
    const refused = await authenticate().then(
      () => assert.fail("authenticated through a 403"),
      (error: TesseraClientError) => error,
    );
    assert.ok(refused instanceof Forbidden);
    assert.equal(refused.code, "forbidden");
    assert.equal(standIn.count("POST /keyauth/v1/authenticate") - kmBefore, 1);
  });
});

describe("createPubkeyJwt", () => {
  it("signs an RS512 JWT for the username that expires within five minutes", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Date.UTC(2030, 0, 1);
    const jwt = createPubkeyJwt("billing-bot", privateKey, now);
    const [header, payload, signature] = jwt.split(".") as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { alg: "RS512", typ: "JWT" });
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    assert.equal(claims.sub, "billing-bot");
    assert.ok(claims.exp > now / 1000 && claims.exp <= now / 1000 + 300);
    assert.ok(verify("sha512", Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url")));
  });

  it("refuses a key that is not RSA", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    assert.throws(() => createPubkeyJwt("bot", privateKey, Date.now()), TypeError);
  });
});
