import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { openTestStorage, testStore } from "@tessera/test-kit/test-database.ts";
import pg from "pg";
import type { ChangeEvent } from "../../src/storage/change-feed.ts";
import type { StorageDialect } from "../../src/storage/dialects/dialect.ts";
import { changeFeedApplicationName } from "../../src/storage/dialects/postgres/notify-change-feed.ts";

/** Collects events and lets a test await the next one matching a condition. */
function recorder() {
  const events: ChangeEvent[] = [];
  const waiters: { match: (event: ChangeEvent) => boolean; resolve: (event: ChangeEvent) => void }[] = [];
  return {
    events,
    handler(event: ChangeEvent) {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.match(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    },
    next(match: (event: ChangeEvent) => boolean): Promise<ChangeEvent> {
      const seen = events.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

const changed = (key: string) => (event: ChangeEvent) => event.kind === "changed" && event.key === key;

async function untilLive(storage: StorageDialect): Promise<void> {
  while (!storage.changes.live) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe(`change feed on ${testStore}`, () => {
  let store: Awaited<ReturnType<typeof openTestStorage>>;
  before(async () => {
    store = await openTestStorage();
  });
  after(() => store.close());

  it("delivers a published change to the subscribers of its topic only", async () => {
    const sessions = recorder();
    const memberships = recorder();
    const stopSessions = store.storage.changes.subscribe("session", sessions.handler);
    const stopMemberships = store.storage.changes.subscribe("membership", memberships.handler);
    try {
      await untilLive(store.storage);
      await store.storage.changes.publish("session", "41");
      await store.storage.changes.publish("membership", "7");
      assert.deepEqual(await sessions.next(changed("41")), { kind: "changed", topic: "session", key: "41" });
      assert.deepEqual(await memberships.next(changed("7")), { kind: "changed", topic: "membership", key: "7" });
      assert.deepEqual(
        sessions.events.filter((event) => event.kind === "changed"),
        [{ kind: "changed", topic: "session", key: "41" }],
      );
    } finally {
      stopSessions();
      stopMemberships();
    }
  });

  it("stops delivering after unsubscribe, and one throwing subscriber does not silence another", async () => {
    const kept = recorder();
    const dropped = recorder();
    const stopThrowing = store.storage.changes.subscribe("session", () => {
      throw new Error("a broken cache");
    });
    const stopKept = store.storage.changes.subscribe("session", kept.handler);
    const stopDropped = store.storage.changes.subscribe("session", dropped.handler);
    try {
      stopDropped();
      await untilLive(store.storage);
      await store.storage.changes.publish("session", "u1");
      await kept.next(changed("u1"));
      assert.equal(dropped.events.length, 0);
    } finally {
      stopThrowing();
      stopKept();
    }
  });
});

// LISTEN/NOTIFY crosses processes; the in-process feed of SQLite serves one node by design.
describe("change feed between PostgreSQL nodes", { skip: testStore !== "postgres" }, () => {
  let store: Awaited<ReturnType<typeof openTestStorage>>;
  let nodeA: StorageDialect;
  let nodeB: StorageDialect;
  before(async () => {
    store = await openTestStorage();
    nodeA = store.storage;
    nodeB = await store.open();
  });
  after(() => store.close());

  it("a NOTIFY from one node reaches another, and only when its transaction commits", async () => {
    const heard = recorder();
    const stop = nodeB.changes.subscribe("session", heard.handler);
    try {
      await untilLive(nodeB);
      await nodeA.db
        .transaction()
        .execute(async (trx) => {
          await nodeA.changes.publish("session", "rolled-back", trx);
          throw new Error("roll back");
        })
        .catch(() => {});
      await nodeA.db.transaction().execute(async (trx) => {
        await nodeA.changes.publish("session", "committed", trx);
      });
      // Notifications arrive in commit order: had the rolled-back one been sent, it came first.
      await heard.next(changed("committed"));
      assert.deepEqual(
        heard.events.map((event) => (event.kind === "changed" ? event.key : event.kind)),
        ["committed"],
      );
    } finally {
      stop();
    }
  });

  it("a dropped listening connection flushes every subscriber, then listening resumes", async () => {
    const sessions = recorder();
    const memberships = recorder();
    const stopSessions = nodeB.changes.subscribe("session", sessions.handler);
    const stopMemberships = nodeB.changes.subscribe("membership", memberships.handler);
    try {
      await untilLive(nodeB);
      const admin = new pg.Client({ connectionString: store.databaseUrl });
      await admin.connect();
      try {
        const terminated = await admin.query(
          "select pg_terminate_backend(pid) as done from pg_stat_activity where application_name = $1 and datname = current_database()",
          [changeFeedApplicationName],
        );
        assert.ok(terminated.rows.length >= 1);
      } finally {
        await admin.end();
      }
      await sessions.next((event) => event.kind === "flush");
      await memberships.next((event) => event.kind === "flush");

      // Reconnected: changes from the other node arrive again.
      await untilLive(nodeB);
      await nodeA.changes.publish("session", "after-reconnect");
      await sessions.next(changed("after-reconnect"));
    } finally {
      stopSessions();
      stopMemberships();
    }
  });
});
