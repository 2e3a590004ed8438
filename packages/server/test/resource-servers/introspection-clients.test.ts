import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession } from "@tessera/test-kit/admin.ts";
import {
  auditEventsOfType,
  countRows,
  createMember,
  createOrg,
  createServiceUser,
  openSession,
} from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { SignJWT } from "jose";

const form = (fields: Record<string, string>) => ({
  rawBody: new URLSearchParams(fields).toString(),
  headers: { "content-type": "application/x-www-form-urlencoded" },
});

/** RFC 6749 §2.3.1: id and secret are form-encoded, then joined and base64-encoded. */
const basic = (clientId: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString("base64")}`;

describe("introspection clients of an org, and service users introspecting", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let clientsPath: string;
  let foreignToken: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    clientsPath = `/admin/orgs/${tessera.orgId}/introspection-clients`;
    const otherOrg = await createOrg(tessera);
    const stranger = await createMember(tessera, { orgId: otherOrg });
    foreignToken = await openSession(tessera, { email: stranger.email, orgId: otherOrg });
  });
  after(() => tessera.close());

  async function register(name = "mod_oauth2") {
    const response = await tessera.request(clientsPath, { token: adminToken, body: { name } });
    assert.equal(response.status, 201, response.text);
    return response.body as { id: number; name: string; clientId: string; clientSecret: string; createdAt: number };
  }

  it("registers a client: id and secret shown once, the secret stored only as a hash, audited", async () => {
    const client = await register();
    assert.deepEqual(Object.keys(client).sort(), ["clientId", "clientSecret", "createdAt", "id", "name"]);
    assert.ok(client.clientSecret.length >= 43);
    const listed = await tessera.request(clientsPath, { token: adminToken });
    assert.equal(listed.status, 200);
    const row = listed.body.find((entry: { id: number }) => entry.id === client.id);
    assert.deepEqual(row, {
      id: client.id,
      name: "mod_oauth2",
      clientId: client.clientId,
      createdAt: client.createdAt,
    });
    const stored = await tessera.ctx.db
      .selectFrom("introspection_clients")
      .selectAll()
      .where("id", "=", client.id)
      .executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(client.clientSecret));
    const created = await auditEventsOfType(tessera, "introspection_client.created");
    assert.equal(created.at(-1)?.data.introspectionClientId, client.id);
  });

  it("accepts client_secret_basic and client_secret_post, for tokens of its own org only", async () => {
    const client = await register();
    const viaBasic = await tessera.request("/oauth2/introspect", {
      ...form({ token: adminToken }),
      headers: { ...form({}).headers, authorization: basic(client.clientId, client.clientSecret) },
    });
    assert.equal(viaBasic.status, 200, viaBasic.text);
    assert.equal(viaBasic.body.active, true);
    assert.equal(viaBasic.body.org, tessera.orgId);
    assert.equal(viaBasic.headers.get("cache-control"), "no-store");

    const viaPost = await tessera.request(
      "/oauth2/introspect",
      form({ token: adminToken, client_id: client.clientId, client_secret: client.clientSecret }),
    );
    assert.equal(viaPost.status, 200, viaPost.text);
    assert.equal(viaPost.body.active, true);

    const foreign = await tessera.request(
      "/oauth2/introspect",
      form({ token: foreignToken, client_id: client.clientId, client_secret: client.clientSecret }),
    );
    assert.deepEqual(foreign.body, { active: false });
  });

  it("refuses a wrong secret, an unknown or deleted client with 401 invalid_client, a Basic challenge", async () => {
    const client = await register();
    const deleted = await register("to delete");
    const removal = await tessera.request(`${clientsPath}/${deleted.id}`, { method: "DELETE", token: adminToken });
    assert.equal(removal.status, 204, removal.text);
    const before = await countRows(tessera);
    for (const [id, secret] of [
      [client.clientId, "wrong"],
      [client.clientId, `${client.clientSecret}x`],
      ["unknown-client", client.clientSecret],
      [deleted.clientId, deleted.clientSecret],
    ] as const) {
      for (const init of [
        { ...form({ token: adminToken }), headers: { ...form({}).headers, authorization: basic(id, secret) } },
        form({ token: adminToken, client_id: id, client_secret: secret }),
      ]) {
        const refused = await tessera.request("/oauth2/introspect", init);
        assert.equal(refused.status, 401, refused.text);
        assert.equal(refused.body.code, "invalid_client");
        assert.match(refused.headers.get("www-authenticate") ?? "", /^Basic realm="tessera"/);
      }
    }
    const garbled = await tessera.request("/oauth2/introspect", {
      ...form({ token: adminToken }),
      headers: { ...form({}).headers, authorization: "Basic %%%not-base64" },
    });
    assert.equal(garbled.status, 401, garbled.text);
    assert.deepEqual(await countRows(tessera), before);
  });

  it("lets only admins manage clients, and never another org's", async () => {
    const client = await register();
    const auditor = await addMemberWithSession(tessera, adminToken, "auditor");
    assert.equal((await tessera.request(clientsPath, { token: auditor.token, body: { name: "x" } })).status, 403);
    const otherOrgPath = `/admin/orgs/${tessera.orgId}/introspection-clients/${client.id}`;
    assert.equal((await tessera.request(otherOrgPath, { method: "DELETE", token: foreignToken })).status, 403);
    assert.equal((await tessera.request(`${clientsPath}/999999`, { method: "DELETE", token: adminToken })).status, 404);
    const bad = await tessera.request(clientsPath, { token: adminToken, body: { name: "" } });
    assert.equal(bad.status, 400);
  });

  it("lets a service user introspect with its own sessionToken (its role grants tokens:introspect)", async () => {
    const { userId } = await createServiceUser(tessera, { orgId: tessera.orgId, username: "introspecting-bot" });
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const added = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${userId}/rsa-keys`, {
      token: adminToken,
      body: { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    assert.equal(added.status, 201, added.text);
    const nowSeconds = Math.floor(tessera.clock.now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "RS512" })
      .setSubject("introspecting-bot")
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + 240)
      .sign(privateKey);
    const login = await tessera.request("/login/pubkey/authenticate", { body: { token: jwt } });
    assert.equal(login.status, 200, login.text);
    const sessionToken = login.body.token as string;

    const own = await tessera.request("/oauth2/introspect", {
      ...form({ token: adminToken }),
      headers: { ...form({}).headers, sessionToken },
    });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.active, true);
    const foreign = await tessera.request("/oauth2/introspect", {
      ...form({ token: foreignToken }),
      headers: { ...form({}).headers, sessionToken },
    });
    assert.deepEqual(foreign.body, { active: false });
    const dead = await tessera.request("/oauth2/introspect", {
      ...form({ token: adminToken }),
      headers: { ...form({}).headers, sessionToken: `tss_${"x".repeat(43)}` },
    });
    assert.equal(dead.status, 401, dead.text);
  });
});
