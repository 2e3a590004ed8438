import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type CertificateKit, type ClientCredentials, makeCertificateKit } from "@tessera/test-kit/certificates.ts";
import { auditEventsOfType, createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { type MtlsResponse, mtlsRequest } from "@tessera/test-kit/mtls-client.ts";

// One kit for the whole file: RSA-4096 keys take seconds to make.
const kitPromise = makeCertificateKit();

describe("service sessions over mutual TLS: RFC 5280 path validation", () => {
  let tessera: TestInstance;
  let kit: CertificateKit;
  let adminToken: string;
  const userIds = new Map<string, number>();

  const onPod = (credentials: ClientCredentials) =>
    mtlsRequest(`${tessera.podMtlsUrl}/sessionauth/v1/authenticate`, { ca: tessera.serverCaPem, ...credentials });
  const onKeyManager = (credentials: ClientCredentials) =>
    mtlsRequest(`${tessera.kmMtlsUrl}/keyauth/v1/authenticate`, { ca: tessera.serverCaPem, ...credentials });

  const assertRefused = (response: MtlsResponse, status: number, reason: string) => {
    assert.equal(response.status, status, response.text);
    assert.equal(response.body.code, status, "Symphony's error shape: code is the HTTP status");
    assert.equal(response.body.reason, reason, response.text);
    assert.equal(typeof response.body.message, "string");
  };
  /** Both listeners refuse, with the same reason. */
  const assertRefusedEverywhere = async (credentials: ClientCredentials, status: number, reason: string) => {
    assertRefused(await onPod(credentials), status, reason);
    assertRefused(await onKeyManager(credentials), status, reason);
  };
  const sessionsOf = async (username: string) =>
    Number(
      (
        await tessera.ctx.db
          .selectFrom("sessions")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("user_id", "=", userIds.get(username) ?? -1)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const trust = async (pem: string) => {
    const response = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem },
    });
    assert.equal(response.status, 201, response.text);
  };

  before(async () => {
    [tessera, kit] = await Promise.all([startTestInstance({ mtls: true }), kitPromise]);
    adminToken = await tessera.login();
    await trust(kit.root.certificatePem);
    for (const username of ["bot1", "bot2", "path-bot", "app-path-bot"]) {
      userIds.set(username, (await createServiceUser(tessera, { orgId: tessera.orgId, username })).userId);
    }
  });
  after(() => tessera.close());

  it("still logs in with a leaf under the root and with a leaf under an intermediate the client sends", async () => {
    const direct = await kit.issue({ cn: "path-bot" });
    assert.equal((await onPod(direct)).status, 200);
    assert.equal((await onKeyManager(direct)).status, 200);
    const intermediate = await kit.intermediate(kit.root, "Issuing CA", { pathLength: 0 });
    const viaIntermediate = await kit.issue({
      cn: "path-bot",
      issuer: intermediate,
      withChain: [intermediate.certificatePem],
    });
    const pod = await onPod(viaIntermediate);
    assert.equal(pod.status, 200, pod.text);
    assert.equal((await onKeyManager(viaIntermediate)).status, 200);
  });

  it("refuses leaf ← intermediate ← a trusted root with pathlen:0: 401 certificate_path_too_long", async () => {
    const root = await kit.authority("Root allowing no intermediate", { pathLength: 0 });
    await trust(root.certificatePem);
    const intermediate = await kit.intermediate(root, "Intermediate it does not allow");
    const credentials = await kit.issue({
      cn: "path-bot",
      issuer: intermediate,
      withChain: [intermediate.certificatePem],
    });
    const before = await sessionsOf("path-bot");
    await assertRefusedEverywhere(credentials, 401, "certificate_path_too_long");
    assert.equal(await sessionsOf("path-bot"), before, "no session was opened");
    // Directly under that root, a leaf is fine; pathlen:1 allows the same chain.
    assert.equal((await onPod(await kit.issue({ cn: "path-bot", issuer: root }))).status, 200);
    const roomier = await kit.authority("Root allowing one intermediate", { pathLength: 1 });
    await trust(roomier.certificatePem);
    const allowed = await kit.intermediate(roomier, "Intermediate it allows");
    const underRoomier = await kit.issue({ cn: "path-bot", issuer: allowed, withChain: [allowed.certificatePem] });
    assert.equal((await onPod(underRoomier)).status, 200);
    // The intermediate's own pathlen:0 forbids one more level below it.
    const strict = await kit.intermediate(roomier, "Intermediate allowing none", { pathLength: 0 });
    const second = await kit.intermediate(strict, "Second-level intermediate");
    const tooDeep = await kit.issue({
      cn: "path-bot",
      issuer: second,
      withChain: [second.certificatePem, strict.certificatePem],
    });
    assertRefused(await onPod(tooDeep), 401, "certificate_path_too_long");
  });

  it("refuses a client certificate marked CA:TRUE, and one it issued never logs in as another bot", async () => {
    const bot1 = await kit.issue({ cn: "bot1", markedAsCa: true });
    const before = { bot1: await sessionsOf("bot1"), bot2: await sessionsOf("bot2") };
    await assertRefusedEverywhere(bot1, 403, "certificate_leaf_is_ca");
    const bot2 = await kit.issue({
      cn: "bot2",
      issuer: { certificatePem: bot1.cert, keys: kit.leafKeys },
      withChain: [bot1.cert],
    });
    const refused = await onPod(bot2);
    assertRefused(refused, 401, "certificate_issuer_cannot_sign");
    assert.match(refused.body.message, /bot1/);
    assertRefused(await onKeyManager(bot2), 401, "certificate_issuer_cannot_sign");
    assert.deepEqual({ bot1: await sessionsOf("bot1"), bot2: await sessionsOf("bot2") }, before);
  });

  it("refuses a chain through a client certificate that is not a CA: 401 certificate_issuer_not_ca", async () => {
    const issuedBy = async (bot1: ClientCredentials) =>
      kit.issue({ cn: "bot2", issuer: { certificatePem: bot1.cert, keys: kit.leafKeys }, withChain: [bot1.cert] });
    const before = await sessionsOf("bot2");
    // CA:FALSE and no keyUsage: node's own chain checks let it through; basicConstraints does not.
    const withoutKeyUsage = await issuedBy(await kit.issue({ cn: "bot1", withoutKeyUsage: true }));
    await assertRefusedEverywhere(withoutKeyUsage, 401, "certificate_issuer_not_ca");
    // An ordinary client certificate (keyUsage without keyCertSign) never chains at all.
    await assertRefusedEverywhere(await issuedBy(await kit.issue({ cn: "bot1" })), 401, "certificate_untrusted");
    assert.equal(await sessionsOf("bot2"), before);
  });

  it("refuses a serverAuth-only certificate: 403 certificate_not_for_client_auth", async () => {
    const server = await kit.issue({ cn: "path-bot", usage: "server" });
    const before = await sessionsOf("path-bot");
    await assertRefusedEverywhere(server, 403, "certificate_not_for_client_auth");
    assert.equal(await sessionsOf("path-bot"), before);
  });

  it("audits each of these refusals as login.failed with its reason, like the other certificate refusals", async () => {
    // A new minute: the refusals of the tests above used up this address's individually audited ones.
    await tessera.clock.advance(61_000);
    const failures = () => auditEventsOfType(tessera, "login.failed");
    const before = (await failures()).length;
    assertRefused(
      await onPod(await kit.issue({ cn: "path-bot", usage: "server" })),
      403,
      "certificate_not_for_client_auth",
    );
    const recorded = (await failures()).slice(before);
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0]?.org_id, tessera.orgId);
    assert.deepEqual(recorded[0]?.data, {
      reason: "certificate_not_for_client_auth",
      method: "certificate",
      username: "path-bot",
    });
  });

  it("counts an application's manifest certificate as valid only when it could authenticate a client", async () => {
    const credentials = await kit.issue({ cn: "app-path-bot" });
    const create = async (name: string, manifest: string) => {
      const created = await tessera.request(`/admin/orgs/${tessera.orgId}/apps`, {
        token: adminToken,
        body: { name, manifestCertificatePem: manifest, enabled: true },
      });
      assert.equal(created.status, 201, created.text);
      return created.body.id as number;
    };
    const serverOnly = await create("app-path-bot", (await kit.issue({ cn: "app", usage: "server" })).cert);
    assert.equal((await onPod(credentials)).status, 200, "a serverAuth-only manifest certificate does not count");
    await tessera.request(`/admin/orgs/${tessera.orgId}/apps/${serverOnly}`, {
      method: "PATCH",
      token: adminToken,
      body: { enabled: false },
    });
    await create("App-Path-Bot", (await kit.issue({ cn: "app", markedAsCa: true })).cert);
    assert.equal((await onPod(credentials)).status, 200, "a CA manifest certificate does not count");
    await create("APP-PATH-BOT", (await kit.issue({ cn: "app" })).cert);
    assertRefused(await onPod(credentials), 403, "application_name_conflict");
  });
});
