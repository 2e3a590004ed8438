import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ContractStandIn } from "@tessera/test-kit/contract-stand-in.ts";
import { createTestPki, type TestPki } from "@tessera/test-kit/test-certificates.ts";
import { DatafeedLoop, ServiceSession, type V4Event } from "../src/index.ts";

// The agent's datafeed endpoints are not built yet: these tests run the loop against a STAND-IN
// that answers as DESIGN §3 says (see contract-stand-in.ts), over real mutual TLS.
describe("DatafeedLoop (contract stand-in)", () => {
  let pki: TestPki;
  let standIn: ContractStandIn;
  let session: ServiceSession;
  before(async () => {
    pki = createTestPki("feed-bot");
    standIn = new ContractStandIn(pki);
    await standIn.start();
    session = await ServiceSession.authenticate({
      podUrl: standIn.url,
      ca: pki.caPem,
      certificate: { cert: pki.clientCertPem, key: pki.clientKeyPem },
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
  });
  after(async () => {
    await session.close();
    await standIn.close();
  });

  /** Resolves once `predicate` holds, checked after each loop event. */
  function until(loop: DatafeedLoop, predicate: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (predicate()) {
          stops.forEach((stop) => {
            stop();
          });
          resolve();
        }
      };
      const stops = [loop.on("acknowledged", check), loop.on("feed", check), loop.on("failed", check)];
      check();
    });
  }

  it("reuses the existing feed, hands batches in order and acknowledges only after the handler succeeded", async () => {
    const feedId = standIn.createFeed();
    const sent = standIn.publish(feedId, "session.created", "session.renewed");
    const handled: V4Event[] = [];
    let failOnce = true;
    const loop = new DatafeedLoop({
      session,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
      handler: (events) => {
        if (failOnce) {
          failOnce = false;
          throw new Error("the handler's database is down");
        }
        handled.push(...events);
      },
    });
    const createsBefore = standIn.count("POST /agent/v5/datafeeds");
    const readsBefore = standIn.reads.length;
    const running = loop.start();
    await until(loop, () => handled.length === 2);
    const more = standIn.publish(feedId, "session.revoked");
    await until(loop, () => handled.length === 3);
    await loop.stop();
    await running;

    assert.equal(loop.feedId, feedId);
    assert.equal(standIn.count("POST /agent/v5/datafeeds"), createsBefore, "no new feed");
    assert.deepEqual(
      handled.map((event) => event.id),
      [...sent, ...more].map((event) => event.id),
    );
    const reads = standIn.reads.slice(readsBefore).map((read) => read.ackId);
    // First read "", the handler fails, so "" goes out again; then the batch's ackId acknowledges it.
    assert.equal(reads[0], "");
    assert.equal(reads[1], "");
    assert.notEqual(reads[2], "");
    standIn.deleteFeed(feedId);
  });

  it("re-authenticates on 401 and continues the same feed with the same ackId", async () => {
    const loop = new DatafeedLoop({ session, retry: { baseDelayMs: 1, maxDelayMs: 5 }, handler: () => {} });
    const running = loop.start();
    await until(loop, () => loop.feedId !== undefined);
    const feedId = loop.feedId ?? "";
    standIn.publish(feedId, "login.failed");
    await until(loop, () => loop.ackId !== "");
    const ackBefore = loop.ackId;
    const tokenBefore = session.sessionToken;
    const loginsBefore = standIn.count("POST /sessionauth/v1/authenticate");
    standIn.revokeAllSessions();
    standIn.publish(feedId, "session.expired");
    await until(loop, () => loop.ackId !== ackBefore);
    await loop.stop();
    await running;

    assert.equal(loop.feedId, feedId);
    assert.equal(standIn.count("POST /sessionauth/v1/authenticate") - loginsBefore, 1);
    const afterLogin = standIn.reads.filter((read) => read.sessionToken !== tokenBefore);
    assert.equal(afterLogin[0]?.feedId, feedId, "the same feed after re-authentication");
    assert.equal(afterLogin[0]?.ackId, ackBefore, "the same ackId after re-authentication");
    standIn.deleteFeed(feedId);
  });

  it("creates a new feed when the feed is gone (400), and retries 503s", async () => {
    const created: string[] = [];
    const loop = new DatafeedLoop({ session, retry: { baseDelayMs: 1, maxDelayMs: 5 }, handler: () => {} });
    loop.on("feed", ({ id, created: isNew }) => {
      if (isNew) created.push(id);
    });
    const running = loop.start();
    await until(loop, () => created.length === 1);
    const first = created[0] ?? "";
    standIn.failNext("POST /agent/v5/datafeeds/{id}/read", "503", "503");
    standIn.deleteFeed(first);
    await until(loop, () => created.length === 2);
    const second = created[1] ?? "";
    standIn.publish(second, "membership.changed");
    await until(loop, () => loop.ackId !== "");
    await loop.stop();
    await running;
    assert.notEqual(second, first);
    assert.equal(loop.feedId, second);
    standIn.deleteFeed(second);
  });

  it("stop() aborts the in-flight long-poll", async () => {
    standIn.longPollMs = 120_000;
    const loop = new DatafeedLoop({ session, handler: () => {} });
    const running = loop.start();
    await until(loop, () => loop.feedId !== undefined);
    const readsBefore = standIn.count("POST /agent/v5/datafeeds/{id}/read");
    while (standIn.count("POST /agent/v5/datafeeds/{id}/read") === readsBefore)
      await new Promise((r) => setImmediate(r));
    const closedBefore = standIn.pollsClosedByClient;
    await loop.stop();
    await running;
    while (standIn.pollsClosedByClient === closedBefore) await new Promise((r) => setImmediate(r));
    assert.equal(standIn.pollsClosedByClient - closedBefore, 1);
    standIn.longPollMs = 200;
  });
});
