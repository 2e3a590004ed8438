import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * What a node's caches hear about changes made by any node: `changed` names one entry
 * (`topic` such as "session", `key` such as its id); `flush` says notifications may have been
 * lost, so every cached entry must go.
 */
export type ChangeEvent = { kind: "changed"; topic: string; key: string } | { kind: "flush" };

/** Topic of "an audit event was written" (key: its org id, "" for none): datafeed long-polls wake on it. */
export const auditTopic = "audit";

export type ChangeHandler = (event: ChangeEvent) => void;

/**
 * The invalidation channel between nodes (PostgreSQL LISTEN/NOTIFY; in-process for SQLite,
 * which serves one node). Caches of sessions, memberships and permissions subscribe; code that
 * changes them publishes inside its transaction.
 */
export interface ChangeFeed {
  /**
   * Announces a change. Given a transaction, the announcement leaves only if it commits, so no
   * node drops an entry for a change that never happened or before the change is visible.
   */
  publish(topic: string, key: string, executor?: Kysely<Database>): Promise<void>;
  /** Calls `handler` for changes of `topic` and for every flush. Returns the unsubscribe function. */
  subscribe(topic: string, handler: ChangeHandler): () => void;
  /**
   * False while notifications might be missed (the listening connection is down or not yet up).
   * A cache must not serve entries while this is false.
   */
  readonly live: boolean;
  close(): Promise<void>;
}

/** The subscribers of one node, by topic. */
export class ChangeSubscribers {
  private readonly handlers = new Map<string, Set<ChangeHandler>>();

  add(topic: string, handler: ChangeHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  get size(): number {
    let count = 0;
    for (const set of this.handlers.values()) count += set.size;
    return count;
  }

  deliver(topic: string, key: string): void {
    for (const handler of this.handlers.get(topic) ?? []) invoke(handler, { kind: "changed", topic, key });
  }

  flush(): void {
    for (const set of this.handlers.values()) for (const handler of set) invoke(handler, { kind: "flush" });
  }
}

/** One subscriber that throws must not keep the others from hearing about a change. */
function invoke(handler: ChangeHandler, event: ChangeEvent): void {
  try {
    handler(event);
  } catch {
    // A cache that cannot process an event has nothing better to do with the error.
  }
}

/** SQLite: one node, so subscribers live in this process. */
export function createInProcessChangeFeed(): ChangeFeed {
  const subscribers = new ChangeSubscribers();
  return {
    live: true,
    async publish(topic, key) {
      // Delivered on the next turn so the publisher's transaction (if any) is not re-entered.
      queueMicrotask(() => subscribers.deliver(topic, key));
    },
    subscribe: (topic, handler) => subscribers.add(topic, handler),
    async close() {},
  };
}
