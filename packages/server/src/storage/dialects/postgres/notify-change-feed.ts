import { type Kysely, sql } from "kysely";
import pg from "pg";
import { type ChangeFeed, ChangeSubscribers } from "../../change-feed.ts";
import type { Database } from "../../schema.ts";

/** The one NOTIFY channel every Tessera node listens on. */
export const changeChannel = "tessera_changes";
/** Names the listening connection in pg_stat_activity, for operators (and for tests that cut it). */
export const changeFeedApplicationName = "tessera-change-feed";

const firstRetryMs = 100;
const maxRetryMs = 5_000;

/**
 * LISTEN/NOTIFY on a dedicated connection (pooled connections cannot keep a LISTEN). The
 * connection opens on the first subscription. When it drops, every subscriber gets `flush`
 * (notifications may have been missed), `live` turns false, and it reconnects with backoff;
 * once listening again, subscribers get one more `flush`, for what happened in between.
 */
export function createNotifyChangeFeed(connectionString: string, db: Kysely<Database>): ChangeFeed {
  const subscribers = new ChangeSubscribers();
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let connecting = false;
  let retryMs = firstRetryMs;
  let retryTimer: NodeJS.Timeout | undefined;
  let everConnected = false;

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void listen();
    }, retryMs);
    retryTimer.unref();
    retryMs = Math.min(retryMs * 2, maxRetryMs);
  };

  const dropped = (lost: pg.Client) => {
    if (client !== lost) return;
    client = undefined;
    live = false;
    lost.end().catch(() => {});
    subscribers.flush();
    scheduleReconnect();
  };

  const listen = async () => {
    if (closed || client || connecting) return;
    connecting = true;
    const candidate = new pg.Client({ connectionString, application_name: changeFeedApplicationName });
    // Errors of this connection (also while idle) mean "dropped", never a crashed process.
    candidate.on("error", () => dropped(candidate));
    candidate.on("end", () => dropped(candidate));
    candidate.on("notification", (message) => {
      if (message.channel !== changeChannel || message.payload === undefined) return;
      const change = parsePayload(message.payload);
      if (change) subscribers.deliver(change.topic, change.key);
    });
    try {
      client = candidate;
      await candidate.connect();
      await candidate.query(`LISTEN ${changeChannel}`);
      if (closed || client !== candidate) {
        await candidate.end().catch(() => {});
        return;
      }
      live = true;
      retryMs = firstRetryMs;
      if (everConnected) subscribers.flush();
      everConnected = true;
    } catch {
      if (client === candidate) dropped(candidate);
    } finally {
      connecting = false;
    }
  };

  return {
    get live() {
      return live;
    },
    async publish(topic, key, executor = db) {
      await sql`select pg_notify(${changeChannel}, ${JSON.stringify({ topic, key })})`.execute(executor);
    },
    subscribe(topic, handler) {
      const unsubscribe = subscribers.add(topic, handler);
      void listen();
      return unsubscribe;
    },
    async close() {
      closed = true;
      live = false;
      if (retryTimer) clearTimeout(retryTimer);
      const open = client;
      client = undefined;
      await open?.end().catch(() => {});
    },
  };
}

function parsePayload(payload: string): { topic: string; key: string } | undefined {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== "object" || value === null) return undefined;
    const { topic, key } = value as { topic?: unknown; key?: unknown };
    return typeof topic === "string" && typeof key === "string" ? { topic, key } : undefined;
  } catch {
    return undefined;
  }
}
