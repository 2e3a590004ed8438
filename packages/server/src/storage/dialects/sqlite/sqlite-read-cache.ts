import type SQLite from "better-sqlite3";
import {
  ExactReadCache,
  type ReadCache,
  tablesReadForAbsence,
  type WatchedTable,
  watchedTables,
} from "../../read-cache.ts";

/** Most cached reads per node: each active token is one entry (about 1 KB). */
const readCacheCapacity = 100_000;

/**
 * The exact read cache on SQLite, where every write of this process goes through one connection:
 * - this connection's writes: TEMP triggers (they exist only on this connection, so the file
 *   stays usable by other programs) call back into the cache from inside the writing
 *   statement, before its transaction can commit;
 * - every other connection's commits (a second process on the file, the sqlite3 shell):
 *   `PRAGMA data_version` changes, checked before each read, and the whole cache is dropped.
 */
export function createSqliteReadCache(connection: SQLite.Database): { cache: ReadCache; arm(): void } {
  const dataVersion = connection.prepare("PRAGMA data_version").pluck();
  let armed = false;
  let seenVersion: unknown;
  const exact = new ExactReadCache(readCacheCapacity, (self) => {
    const version = dataVersion.get();
    if (version !== seenVersion) {
      self.clear();
      seenVersion = version;
    }
  });
  connection.function("tessera_row_changed", (table: unknown, key: unknown) => {
    if (typeof table === "string" && table in watchedTables && (typeof key === "string" || typeof key === "number")) {
      exact.rowChanged(table as WatchedTable, key);
    } else {
      exact.clear();
    }
    return null;
  });
  // REPLACE deletes conflicting rows without firing delete triggers unless this is on.
  connection.pragma("recursive_triggers = ON");
  return {
    // Until the triggers exist, nothing would tell the cache of a change: reads pass through.
    cache: {
      read: (key, load, readFrom) => (armed ? exact.read(key, load, readFrom) : load()),
      get size() {
        return exact.size;
      },
    },
    arm() {
      if (armed) return;
      for (const [table, column] of Object.entries(watchedTables)) {
        const events = tablesReadForAbsence.includes(table as WatchedTable)
          ? (["insert", "update", "delete"] as const)
          : (["update", "delete"] as const);
        for (const event of events) {
          const row = event === "insert" ? "new" : "old";
          connection.exec(
            `create temp trigger if not exists tessera_read_cache_${table}_${event} after ${event} on main.${table}
             begin select tessera_row_changed('${table}', ${row}.${column}); end`,
          );
        }
      }
      armed = true;
    },
  };
}
