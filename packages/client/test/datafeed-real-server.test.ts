import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser } from "@tessera/test-kit/admin.ts";
import { addBot, type Bot } from "@tessera/test-kit/agent.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import {
  createCaCertificate,
  exportPrivateKeyPem,
  generateRsaKeyPair,
  issueCertificate,
  validFor,
} from "../../server/src/certificates/generate.ts";
import { type ClientClock, DatafeedLoop, ServiceSession, systemClock, type V4Event } from "../src/index.ts";

/** The server's (test) clock for the SDK's key-pair JWTs, with real timers. */
function clockOf(tessera: () => TestInstance): ClientClock {
  return { ...systemClock, now: () => tessera().clock.now() };
}

/** Resolves once `predicate` holds, checked whenever the loop reports something and every 20 ms. */
async function until(predicate: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > limitMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("DatafeedLoop against the real server", () => {
  let tessera: TestInstance;
  let adminToken = "";
  let reader: Bot;

  before(async () => {
    tessera = await startTestInstance({ datafeedTiming: { longPollMs: 1_000, redeliveryMs: 30_000 } });
    adminToken = await tessera.login(adminEmail, adminPassword);
    // An auditor service user reads the whole org's events.
    reader = await addBot(tessera, adminToken, "auditor");
  });
  after(async () => {
    await tessera.close();
  });

  it("receives every event across a forced session expiry, an admin revocation and a server restart", async () => {
    const session = await ServiceSession.authenticate({
      podUrl: tessera.baseUrl,
      keyPair: { username: reader.username, privateKey: reader.privateKeyPem },
      clock: clockOf(() => tessera),
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
    });
    const reauthentications: string[] = [];
    session.on("authenticated", ({ reason }) => reauthentications.push(reason));
    const handled: V4Event[] = [];
    const loop = new DatafeedLoop({
      session,
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
      handler: (events) => {
        handled.push(...events);
      },
    });
    const running = loop.start();
    await until(() => loop.feedId !== undefined, "the feed");

    const expected: string[] = [];
    /** Adds `count` users as the admin; each is one USER_CREATED event the reader must see. */
    const addUsers = async (count: number) => {
      adminToken = await tessera.login(adminEmail, adminPassword);
      for (let i = 0; i < count; i++) {
        const user = await addUser(tessera, adminToken, { role: "member" });
        expected.push(String(user.id));
      }
    };
    const createdFor = () =>
      handled
        .filter((event) => event.type === "USER_CREATED")
        .map((event) => String((event.payload as { subjectUserId: number }).subjectUserId));
    const allSeen = () => expected.every((id) => createdFor().includes(id));

    await addUsers(3);
    await until(allSeen, "the first events");

    // 1. The session expires (the clock passes the org's service-session lifetime, 24 h).
    tessera.clock.advanceSeconds(86_400 + 60);
    await addUsers(3);
    await until(allSeen, "events after the session expired");

    // 2. An admin revokes every session of the reader.
    const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${reader.id}/sessions`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(revoked.status, 204);
    await addUsers(3);
    await until(allSeen, "events after the revocation");

    // 3. The server restarts on the same data; events written while it was down-and-up arrive too.
    tessera = await tessera.restart();
    await addUsers(3);
    await until(allSeen, "events after the restart");

    await loop.stop();
    await running;
    await session.close();

    assert.ok(reauthentications.filter((reason) => reason === "unauthorized").length >= 2);
    const seen = createdFor();
    assert.deepEqual(seen, expected, "every event once, in order: nothing lost, nothing acknowledged came back");
    const ids = handled.map((event) => Number(event.id));
    assert.equal(new Set(ids).size, ids.length, "no event handled twice");
  });
});

describe("DatafeedLoop against the real server: acknowledgement and a deleted feed", () => {
  let tessera: TestInstance;
  let adminToken = "";
  let reader: Bot;

  before(async () => {
    // Unacknowledged batches come back after 300 ms, so a failed handler sees its batch again soon.
    tessera = await startTestInstance({ datafeedTiming: { longPollMs: 500, redeliveryMs: 300 } });
    adminToken = await tessera.login(adminEmail, adminPassword);
    reader = await addBot(tessera, adminToken, "auditor");
  });
  after(async () => {
    await tessera.close();
  });

  const userCreated = (events: readonly V4Event[]) =>
    events
      .filter((event) => event.type === "USER_CREATED")
      .map((event) => (event.payload as { subjectUserId: number }).subjectUserId);

  it("acknowledges a batch only once its handler succeeded; a deleted feed is replaced and reading goes on", async () => {
    const session = await ServiceSession.authenticate({
      podUrl: tessera.baseUrl,
      keyPair: { username: reader.username, privateKey: reader.privateKeyPem },
      clock: clockOf(() => tessera),
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
    });
    const deliveries: number[][] = [];
    let failuresLeft = 1;
    const loop = new DatafeedLoop({
      session,
      retry: { baseDelayMs: 10, maxDelayMs: 100 },
      handler: (events) => {
        const created = userCreated(events);
        if (created.length === 0) return;
        deliveries.push(created);
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error("the integration's store is down");
        }
      },
    });
    const failures: string[] = [];
    loop.on("failed", ({ stage }) => failures.push(stage));
    const running = loop.start();
    try {
      await until(() => loop.feedId !== undefined, "the feed");

      const first = await addUser(tessera, adminToken, { role: "member" });
      await until(() => failures.length > 0, "the handler's failure");
      assert.deepEqual(failures, ["handler"]);
      // Redelivery is due by the server's clock (the test's): 300 ms later.
      tessera.clock.advance(400);
      await until(() => deliveries.length >= 2, "the batch again after the handler failed");
      assert.deepEqual(deliveries[0], [first.id], "first delivery, handler threw");
      assert.deepEqual(deliveries[1], [first.id], "the same event again: it was not acknowledged");

      // Acknowledged now: past another redelivery period, with reads going on, it does not come back.
      tessera.clock.advance(1_000);
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      assert.equal(deliveries.flat().filter((id) => id === first.id).length, 2);

      // The feed is deleted (by another process of the integration, say): the loop makes a new one and reads on.
      const oldFeed = loop.feedId ?? "";
      const deleted = await session.fetch(`${tessera.baseUrl}/agent/v5/datafeeds/${oldFeed}`, { method: "DELETE" });
      assert.equal(deleted.status, 204);
      await until(() => loop.feedId !== undefined && loop.feedId !== oldFeed, "a new feed");
      const second = await addUser(tessera, adminToken, { role: "member" });
      await until(() => deliveries.flat().includes(second.id), "an event on the new feed");
    } finally {
      await loop.stop();
      await running;
      await session.close();
    }
  });
});

describe("ServiceSession over real mutual TLS: one re-authentication for 50 concurrent 401s", () => {
  let tessera: TestInstance;
  let session: ServiceSession;
  let botId = 0;
  let adminToken = "";

  before(async () => {
    const [rootKeys, leafKeys] = await Promise.all([generateRsaKeyPair(4096), generateRsaKeyPair(4096)]);
    tessera = await startTestInstance({ mtls: true, datafeedTiming: { longPollMs: 500, redeliveryMs: 30_000 } });
    adminToken = await tessera.login(adminEmail, adminPassword);
    const rootPem = await createCaCertificate({ keys: rootKeys, commonName: "Feed Root CA", validity: validFor(30) });
    const trusted = await tessera.request(`/admin/orgs/${tessera.orgId}/trusted-cas`, {
      token: adminToken,
      body: { pem: rootPem },
    });
    assert.ok(trusted.status === 200 || trusted.status === 201, trusted.text);
    const bot = await addUser(tessera, adminToken, { kind: "service", username: "feed-cert-bot", role: "service" });
    botId = bot.id;
    const cert = await issueCertificate({
      issuerCertificatePem: rootPem,
      issuerPrivateKey: rootKeys.privateKey,
      subjectPublicKey: leafKeys.publicKey,
      commonName: "feed-cert-bot",
      validity: validFor(30),
      usage: "client",
    });
    session = await ServiceSession.authenticate({
      podUrl: tessera.baseUrl,
      sessionAuthUrl: tessera.podMtlsUrl,
      keyManagerUrl: tessera.kmMtlsUrl,
      ca: tessera.serverCaPem,
      certificate: { cert, key: await exportPrivateKeyPem(leafKeys.privateKey) },
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
  });
  after(async () => {
    await session.close();
    await tessera.close();
  });

  it("50 concurrent datafeed calls that meet a 401 cause exactly one certificate login", async () => {
    const created = await session.fetch("/agent/v5/datafeeds", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(created.status, 201);
    const feed = (await created.json()) as { id: string };
    const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${botId}/sessions`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(revoked.status, 204);
    const logins = () =>
      tessera.ctx.db
        .selectFrom("sessions")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("user_id", "=", botId)
        .executeTakeFirstOrThrow();
    const before = Number((await logins()).count);
    const reasons: string[] = [];
    session.on("authenticated", ({ reason }) => reasons.push(reason));

    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        session.fetch("/agent/v5/datafeeds", { headers: { "content-type": "application/json" } }),
      ),
    );
    assert.deepEqual(
      responses.map((response) => response.status),
      Array(50).fill(200),
    );
    for (const response of responses) {
      const feeds = (await response.json()) as Array<{ id: string }>;
      assert.deepEqual(
        feeds.map((entry) => entry.id),
        [feed.id],
        "the same feed, after re-authentication",
      );
    }
    assert.deepEqual(reasons, ["unauthorized"]);
    // One pod session and one key-manager session: exactly one login over each mTLS listener.
    assert.equal(Number((await logins()).count) - before, 2);
  });
});
