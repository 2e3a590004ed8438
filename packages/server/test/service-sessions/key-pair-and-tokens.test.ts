import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { auditEventsOfType, createMember, createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import { putSessionPolicy } from "../../src/policies/policies.ts";

function rsaKeyPair(): { publicPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

describe("key-pair login and authorization tokens", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let botId: number;
  const registered = rsaKeyPair();
  const unregistered = rsaKeyPair();

  const loginToken = (options: { key?: KeyObject; sub?: string; expiresInSeconds?: number; alg?: string } = {}) => {
    const nowSeconds = Math.floor(tessera.clock.now() / 1000);
    // A jti per token: key-pair tokens are single use, and these tests log in several times a second.
    return new SignJWT({})
      .setProtectedHeader({ alg: options.alg ?? "RS512" })
      .setJti(randomUUID())
      .setSubject(options.sub ?? "key-bot")
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + (options.expiresInSeconds ?? 300))
      .sign(options.key ?? registered.privateKey);
  };
  const podLogin = async (token: string) => tessera.request("/login/pubkey/authenticate", { body: { token } });
  const jwks = async () => {
    const response = await tessera.request("/.well-known/jwks.json");
    assert.equal(response.status, 200);
    return response.body as { keys: { kid: string }[] };
  };

  before(async () => {
    tessera = await startTestInstance({ mtls: true });
    adminToken = await tessera.login();
    ({ userId: botId } = await createServiceUser(tessera, { orgId: tessera.orgId, username: "key-bot" }));
    await createServiceUser(tessera, { orgId: tessera.orgId, username: "other-bot" });
    const added = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${botId}/rsa-keys`, {
      token: adminToken,
      body: { publicKeyPem: registered.publicPem },
    });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.bits, 2048);
  });
  after(() => tessera.close());

  describe("RSA key administration", () => {
    it("refuses what is not an RSA public key of 2048+ bits with 400 invalid_public_key", async () => {
      const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" });
      const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({
        type: "spki",
        format: "pem",
      });
      for (const publicKeyPem of ["garbage", ec.toString(), small.toString()]) {
        const response = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${botId}/rsa-keys`, {
          token: adminToken,
          body: { publicKeyPem },
        });
        assert.equal(response.status, 400);
        assert.equal(response.body.code, "invalid_public_key");
      }
      const list = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${botId}/rsa-keys`, { token: adminToken });
      assert.equal(list.body.length, 1);
    });

    it("registers keys only for service users of the org (400 for a person, 404 for a stranger)", async () => {
      const person = await tessera.request(`/admin/orgs/${tessera.orgId}/users/1/rsa-keys`, {
        token: adminToken,
        body: { publicKeyPem: unregistered.publicPem },
      });
      assert.equal(person.status, 400);
      assert.equal(person.body.code, "invalid_request");
      const stranger = await tessera.request(`/admin/orgs/${tessera.orgId}/users/9999/rsa-keys`, {
        token: adminToken,
        body: { publicKeyPem: unregistered.publicPem },
      });
      assert.equal(stranger.status, 404);
    });
  });

  describe("POST /login/pubkey/authenticate and /relay/pubkey/authenticate", () => {
    it("opens a service session from a JWT signed RS512 by a registered key", async () => {
      const response = await podLogin(await loginToken());
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.name, "sessionToken");
      assert.match(response.body.token, /^tss_/);
      const info = await tessera.request("/pod/v2/sessioninfo", { headers: { sessionToken: response.body.token } });
      assert.equal(info.status, 200);
      assert.equal(info.body.username, "key-bot");
      assert.equal(info.body.id, botId);
    });

    it("opens a key-manager session on /relay, on HTTP and on the key-manager listener without a client certificate", async () => {
      const http = await tessera.request("/relay/pubkey/authenticate", { body: { token: await loginToken() } });
      assert.equal(http.status, 200, http.text);
      assert.equal(http.body.name, "keyManagerToken");
      assert.match(http.body.token, /^tsm_/);
      const km = await mtlsRequest(`${tessera.kmMtlsUrl}/relay/pubkey/authenticate`, {
        ca: tessera.serverCaPem,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: await loginToken() }),
      });
      assert.equal(km.status, 200, km.text);
      assert.equal(km.body.name, "keyManagerToken");
    });

    it("refuses every bad token with 401 invalid_key_pair_token", async () => {
      const nowSeconds = Math.floor(tessera.clock.now() / 1000);
      const cases = {
        "unregistered key": await loginToken({ key: unregistered.privateKey }),
        "exp ten minutes ahead": await loginToken({ expiresInSeconds: 600 }),
        "sub of another service user": await loginToken({ sub: "other-bot" }),
        "sub of nobody": await loginToken({ sub: "nobody" }),
        "already expired": await loginToken({ expiresInSeconds: -120 }),
        "RS256 instead of RS512": await loginToken({ alg: "RS256" }),
        "no exp": await new SignJWT({})
          .setProtectedHeader({ alg: "RS512" })
          .setSubject("key-bot")
          .setIssuedAt(nowSeconds)
          .sign(registered.privateKey),
        "not a JWT": "not-a-jwt",
      };
      for (const [name, token] of Object.entries(cases)) {
        const response = await podLogin(token);
        assert.equal(response.status, 401, `${name}: ${response.text}`);
        assert.equal(response.body.reason, "invalid_key_pair_token", name);
        assert.equal(response.body.code, 401);
      }
    });

    it("records each refusal as login.failed in the org of the named service user", async () => {
      const failures = () => auditEventsOfType(tessera, "login.failed");
      const before = (await failures()).length;
      assert.equal((await podLogin(await loginToken({ key: unregistered.privateKey }))).status, 401);
      const recorded = (await failures()).slice(before);
      assert.equal(recorded.length, 1);
      assert.equal(recorded[0]?.org_id, tessera.orgId);
      assert.equal(recorded[0]?.subject_user_id, botId);
      assert.deepEqual(recorded[0]?.data, {
        reason: "invalid_key_pair_token",
        method: "key_pair",
        username: "key-bot",
      });
    });

    it("stops accepting a key once an admin removes it", async () => {
      const extra = rsaKeyPair();
      const added = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${botId}/rsa-keys`, {
        token: adminToken,
        body: { publicKeyPem: extra.publicPem },
      });
      assert.equal((await podLogin(await loginToken({ key: extra.privateKey }))).status, 200);
      const removed = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${botId}/rsa-keys/${added.body.id}`, {
        method: "DELETE",
        token: adminToken,
      });
      assert.equal(removed.status, 204);
      assert.equal((await podLogin(await loginToken({ key: extra.privateKey }))).status, 401);
    });
  });

  describe("authorization tokens", () => {
    let sessionToken: string;
    let authorizationToken: string;

    before(async () => {
      const response = await podLogin(await loginToken());
      sessionToken = response.body.token;
      authorizationToken = response.body.authorizationToken;
    });

    it("is an ES256 JWT with kid, verifiable with the published JWKS, carrying the claims of contract §2", async () => {
      const header = decodeProtectedHeader(authorizationToken);
      assert.equal(header.alg, "ES256");
      assert.equal(typeof header.kid, "string");
      const { payload } = await jwtVerify(authorizationToken, createLocalJWKSet(await jwks()), {
        currentDate: new Date(tessera.clock.now()),
        issuer: "tessera",
      });
      assert.equal(payload.sub, String(botId));
      assert.equal(payload.org, tessera.orgId);
      assert.equal(typeof payload.sid, "number");
      assert.deepEqual(payload.permissions, ["self:read", "tokens:introspect"]);
      assert.equal(typeof payload.jti, "string");
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 300);
      const keys = await tessera.request("/login/idm/keys");
      assert.deepEqual(keys.body, await jwks());
      assert.ok(!JSON.stringify(keys.body).includes('"d"'), "no private key material is published");
    });

    it("POST /login/idm/tokens gives a fresh one for a live session, narrowed by scope", async () => {
      const fresh = await tessera.request("/login/idm/tokens?scope=self:read%20users:write", {
        method: "POST",
        headers: { sessionToken, "content-type": "application/json" },
      });
      assert.equal(fresh.status, 200, fresh.text);
      assert.equal(fresh.body.token_type, "Bearer");
      assert.equal(fresh.body.expires_in, 300);
      const { payload } = await jwtVerify(fresh.body.access_token, createLocalJWKSet(await jwks()), {
        currentDate: new Date(tessera.clock.now()),
      });
      assert.deepEqual(payload.permissions, ["self:read"]);
      assert.equal(payload.scope, "self:read");
      const dead = await tessera.request("/login/idm/tokens", {
        method: "POST",
        headers: { sessionToken: "tss_nope" },
      });
      assert.equal(dead.status, 401);
      assert.equal(dead.body.reason, "invalid_token");
    });

    it("never outlives its session", async () => {
      await putSessionPolicy(tessera.ctx.db, tessera.orgId, {
        userIdleSeconds: 900,
        userAbsoluteSeconds: 86_400,
        serviceSessionSeconds: 3600,
        renewGraceSeconds: 30,
      });
      const short = (await podLogin(await loginToken())).body.token;
      await tessera.clock.advanceSeconds(3600 - 120);
      const response = await tessera.request("/login/idm/tokens", { method: "POST", headers: { sessionToken: short } });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.expires_in, 120);
    });

    it("rotates: old tokens stay verifiable until they expire, then the old key leaves the JWKS", async () => {
      adminToken = await tessera.login();
      const session = (await podLogin(await loginToken())).body;
      const oldKid = decodeProtectedHeader(session.authorizationToken).kid;
      const rotated = await tessera.request("/admin/signing-keys/rotate", { method: "POST", token: adminToken });
      assert.equal(rotated.status, 200, rotated.text);
      assert.notEqual(rotated.body.kid, oldKid);
      assert.ok(rotated.body.retired.includes(oldKid));
      const published = (await jwks()).keys.map((key) => key.kid);
      assert.ok(published.includes(oldKid as string) && published.includes(rotated.body.kid));
      await jwtVerify(session.authorizationToken, createLocalJWKSet(await jwks()), {
        currentDate: new Date(tessera.clock.now()),
      });
      const fresh = await tessera.request("/login/idm/tokens", {
        method: "POST",
        headers: { sessionToken: session.token },
      });
      assert.equal(decodeProtectedHeader(fresh.body.access_token).kid, rotated.body.kid);
      await tessera.clock.advanceSeconds(301);
      const after = (await jwks()).keys.map((key) => key.kid);
      assert.ok(!after.includes(oldKid as string));
      assert.ok(after.includes(rotated.body.kid));
      const audit = await tessera.ctx.db
        .selectFrom("audit_events")
        .select("type")
        .where("type", "=", "signing_key.rotated")
        .execute();
      assert.equal(audit.length, 1);
    });

    it("lets only a system admin rotate (403 forbidden for an org owner who is not one)", async () => {
      await createMember(tessera, { email: "owner@example.com", password: "another long password", role: "owner" });
      const ownerToken = await tessera.login("owner@example.com", "another long password");
      const response = await tessera.request("/admin/signing-keys/rotate", { method: "POST", token: ownerToken });
      assert.equal(response.status, 403);
      assert.equal(response.body.code, "forbidden");
    });
  });
});
