import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addUser } from "@tessera/test-kit/admin.ts";
import { addBot, type Bot } from "@tessera/test-kit/agent.ts";
import { FaultProxy } from "@tessera/test-kit/fault-proxy.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import type { TestClock } from "@tessera/test-kit/test-clock.ts";
import { type ClientClock, DatafeedLoop, ServiceSession, systemClock, type V4Event } from "../src/index.ts";

/** The server's (test) clock for the SDK's key-pair JWTs, with real timers. */
function clockOf(tessera: () => TestInstance): ClientClock {
  return { ...systemClock, now: () => tessera().clock.now() };
}

const stepMs = 20;

/**
 * Lets 20 ms pass, on the server's (test) clock and for real, as on a running server: its
 * long-polls reach their deadlines and re-checks on that clock, while the I/O of the SDK goes on.
 */
async function passStep(clock: TestClock): Promise<void> {
  await clock.advance(stepMs);
  await new Promise((resolve) => setTimeout(resolve, stepMs));
}

/** Resolves once `predicate` holds, checked after each step of time. */
async function until(
  clock: TestClock,
  predicate: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 20_000,
): Promise<void> {
  const started = performance.now();
  while (!(await predicate())) {
    if (performance.now() - started > limitMs) assert.fail(`timed out waiting for ${what}`);
    await passStep(clock);
  }
}

/** The users whose creation `events` report, in order. */
function userCreated(events: readonly V4Event[]): number[] {
  return events
    .filter((event) => event.type === "USER_CREATED")
    .map((event) => (event.payload as { subjectUserId: number }).subjectUserId);
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
    await until(tessera.clock, () => loop.feedId !== undefined, "the feed");

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
    await until(tessera.clock, allSeen, "the first events");

    // 1. The session expires (the clock passes the org's service-session lifetime, 24 h).
    await tessera.clock.advanceSeconds(86_400 + 60);
    await addUsers(3);
    await until(tessera.clock, allSeen, "events after the session expired");

    // 2. An admin revokes every session of the reader.
    const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${reader.id}/sessions`, {
      method: "DELETE",
      token: adminToken,
    });
    assert.equal(revoked.status, 204);
    await addUsers(3);
    await until(tessera.clock, allSeen, "events after the revocation");

    // 3. The server restarts on the same data; events written while it was down-and-up arrive too.
    tessera = await tessera.restart();
    await addUsers(3);
    await until(tessera.clock, allSeen, "events after the restart");

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
      await until(tessera.clock, () => loop.feedId !== undefined, "the feed");

      const first = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => failures.length > 0, "the handler's failure");
      assert.deepEqual(failures, ["handler"]);
      // Redelivery is due by the server's clock (the test's): 300 ms later.
      await tessera.clock.advance(400);
      await until(tessera.clock, () => deliveries.length >= 2, "the batch again after the handler failed");
      assert.deepEqual(deliveries[0], [first.id], "first delivery, handler threw");
      assert.deepEqual(deliveries[1], [first.id], "the same event again: it was not acknowledged");

      // Acknowledged now: past another redelivery period, with reads going on, it does not come back.
      await tessera.clock.advance(1_000);
      for (let passed = 0; passed < 1_200; passed += stepMs) await passStep(tessera.clock);
      assert.equal(deliveries.flat().filter((id) => id === first.id).length, 2);

      // The feed is deleted (by another process of the integration, say): the loop makes a new one and reads on.
      const oldFeed = loop.feedId ?? "";
      const deleted = await session.fetch(`${tessera.baseUrl}/agent/v5/datafeeds/${oldFeed}`, { method: "DELETE" });
      assert.equal(deleted.status, 204);
      await until(tessera.clock, () => loop.feedId !== undefined && loop.feedId !== oldFeed, "a new feed");
      const second = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => deliveries.flat().includes(second.id), "an event on the new feed");
    } finally {
      await loop.stop();
      await running;
      await session.close();
    }
  });
});

describe("DatafeedLoop against the real server behind a fault proxy", () => {
  let tessera: TestInstance;
  let proxy: FaultProxy;
  let adminToken = "";
  const fastRetry = { baseDelayMs: 10, maxDelayMs: 100 };

  before(async () => {
    // An empty read waits a whole minute here: only stop() can end one early.
    tessera = await startTestInstance({ datafeedTiming: { longPollMs: 60_000, redeliveryMs: 30_000 } });
    proxy = new FaultProxy(tessera.baseUrl);
    await proxy.start();
    adminToken = await tessera.login(adminEmail, adminPassword);
  });
  after(async () => {
    await proxy.close();
    await tessera.close();
  });

  /** A fresh auditor service user (so that no feed of an earlier test is found), logged in through the proxy. */
  async function newReader(): Promise<{ reader: Bot; session: ServiceSession }> {
    const reader = await addBot(tessera, adminToken, "auditor");
    const session = await ServiceSession.authenticate({
      podUrl: proxy.url,
      keyPair: { username: reader.username, privateKey: reader.privateKeyPem },
      clock: clockOf(() => tessera),
      retry: fastRetry,
    });
    return { reader, session };
  }

  const readKey = (feedId: string) => `POST /agent/v5/datafeeds/${feedId}/read`;
  const readsOf = (feedId: string) => proxy.requests.filter((request) => request.key === readKey(feedId));
  const ackIdOf = (read: { body: string } | undefined) => (JSON.parse(read?.body ?? "{}") as { ackId?: string }).ackId;

  it("reuses the feed it finds instead of creating one; the next read's ackId acknowledges a batch", async () => {
    const { session } = await newReader();
    const created = await session.fetch("/agent/v5/datafeeds", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    assert.equal(created.status, 201);
    const feedId = ((await created.json()) as { id: string }).id;
    const waiting = await addUser(tessera, adminToken, { role: "member" });
    const createsBefore = proxy.count("POST /agent/v5/datafeeds");
    const handled: number[] = [];
    const feeds: Array<{ id: string; created: boolean }> = [];
    const loop = new DatafeedLoop({
      session,
      retry: fastRetry,
      handler: (events) => {
        handled.push(...userCreated(events));
      },
    });
    loop.on("feed", (feed) => feeds.push(feed));
    const running = loop.start();
    let next: Awaited<ReturnType<typeof addUser>>;
    try {
      await until(tessera.clock, () => handled.includes(waiting.id), "the event waiting on the feed");
      next = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => handled.includes(next.id), "the next event");
    } finally {
      await loop.stop();
      await running;
      await session.close();
    }
    assert.deepEqual(feeds, [{ id: feedId, created: false }]);
    assert.equal(proxy.count("POST /agent/v5/datafeeds"), createsBefore, "no new feed");
    assert.deepEqual(handled, [waiting.id, next.id]);
    const acks = readsOf(feedId).map(ackIdOf);
    assert.equal(acks[0], "", "the first read acknowledges nothing");
    assert.ok(acks.length >= 2 && acks.slice(1).every((ackId) => typeof ackId === "string" && ackId !== ""));
  });

  it("re-authenticates on a 401 and reads on with the same feed and the same ackId", async () => {
    const { reader, session } = await newReader();
    const handled: number[] = [];
    const loop = new DatafeedLoop({
      session,
      retry: fastRetry,
      handler: (events) => {
        handled.push(...userCreated(events));
      },
    });
    const running = loop.start();
    let feedId = "";
    let tokenBefore = "";
    let first: Awaited<ReturnType<typeof addUser>>;
    let second: Awaited<ReturnType<typeof addUser>>;
    let podLoginsBefore = 0;
    let kmLoginsBefore = 0;
    let createsBefore = 0;
    try {
      first = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => handled.includes(first.id), "the first event");
      feedId = loop.feedId ?? "";
      tokenBefore = session.sessionToken;
      podLoginsBefore = proxy.count("POST /login/pubkey/authenticate");
      kmLoginsBefore = proxy.count("POST /relay/pubkey/authenticate");
      createsBefore = proxy.count("POST /agent/v5/datafeeds");
      const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${reader.id}/sessions`, {
        method: "DELETE",
        token: adminToken,
      });
      assert.equal(revoked.status, 204);
      second = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => handled.includes(second.id), "the event after the revocation");
    } finally {
      await loop.stop();
      await running;
      await session.close();
    }
    assert.equal(loop.feedId, feedId, "the same feed");
    assert.equal(proxy.count("POST /agent/v5/datafeeds"), createsBefore, "no new feed");
    assert.equal(proxy.count("POST /login/pubkey/authenticate") - podLoginsBefore, 1);
    assert.equal(proxy.count("POST /relay/pubkey/authenticate") - kmLoginsBefore, 1);
    const reads = readsOf(feedId);
    const refused = reads.filter((read) => read.headers.sessiontoken === tokenBefore).at(-1);
    const resumed = reads.find((read) => read.headers.sessiontoken !== tokenBefore);
    assert.ok(refused && resumed);
    assert.equal(ackIdOf(resumed), ackIdOf(refused), "the read the 401 refused goes out again with its ackId");
    assert.notEqual(ackIdOf(resumed), "");
    assert.deepEqual(handled, [first.id, second.id]);
  });

  it("retries a read that met a 503, a connection reset or a 429, and loses nothing", async () => {
    const { session } = await newReader();
    const handled: number[] = [];
    const failures: string[] = [];
    const loop = new DatafeedLoop({
      session,
      retry: fastRetry,
      handler: (events) => {
        handled.push(...userCreated(events));
      },
    });
    loop.on("failed", ({ stage }) => failures.push(stage));
    const running = loop.start();
    let first: Awaited<ReturnType<typeof addUser>>;
    let second: Awaited<ReturnType<typeof addUser>>;
    try {
      await until(
        tessera.clock,
        () => loop.feedId !== undefined && readsOf(loop.feedId).length === 1,
        "the first read",
      );
      const feedId = loop.feedId ?? "";
      proxy.failNext(readKey(feedId), "503", "reset", "429");
      first = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => handled.includes(first.id), "the first event");
      second = await addUser(tessera, adminToken, { role: "member" });
      await until(tessera.clock, () => handled.includes(second.id), "the event after the failed reads");
    } finally {
      await loop.stop();
      await running;
      await session.close();
    }
    assert.deepEqual(failures, ["read", "read", "read"]);
    assert.deepEqual(handled, [first.id, second.id]);
  });

  it("stop() aborts the read in flight at once, not when its long-poll ends", async () => {
    const { session } = await newReader();
    const loop = new DatafeedLoop({ session, retry: fastRetry, handler: () => {} });
    const running = loop.start();
    await until(
      tessera.clock,
      () => loop.feedId !== undefined && readsOf(loop.feedId).length === 1,
      "a read in flight",
    );
    const feedId = loop.feedId ?? "";
    const started = performance.now();
    await loop.stop();
    await running;
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5_000, `stop() took ${Math.round(elapsed)} ms; the long-poll lasts 60 s`);
    await until(tessera.clock, () => proxy.abandoned(readKey(feedId)) === 1, "the proxy seeing the read given up");
    assert.equal(readsOf(feedId).length, 1, "no read after stop()");
    await session.close();
  });
});
