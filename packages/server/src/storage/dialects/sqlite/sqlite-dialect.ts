import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, type SqliteDatabase, SqliteDialect, sql } from "kysely";
import { auditTopic, createInProcessChangeFeed } from "../../change-feed.ts";
import type { Database } from "../../schema.ts";
import type { StorageDialect } from "../dialect.ts";
import { createSqliteReadCache } from "./sqlite-read-cache.ts";
import { withSqliteStartupLock } from "./startup-lock.ts";

/** The file is locked by another process for longer than busy_timeout: worth a retry, not a 500. */
const unavailableCodes = new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN"]);

/** How many distinct SQL texts keep their prepared statement (queries with IN lists vary in text). */
const statementCacheSize = 500;

/**
 * Kysely's SQLite driver prepares every query anew, and preparing cost more than running the
 * validation query itself. The same SQL text gets the same prepared statement, least recently
 * used ones dropped first. Safe because Kysely runs one query at a time on the connection.
 */
function withStatementCache(connection: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => connection.close(),
    prepare(text) {
      let statement = statements.get(text);
      if (statement) {
        statements.delete(text);
      } else {
        statement = connection.prepare(text);
        if (statements.size >= statementCacheSize) {
          const oldest = statements.keys().next();
          if (!oldest.done) statements.delete(oldest.value);
        }
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

export function openSqlite(file: string): StorageDialect {
  mkdirSync(dirname(file), { recursive: true });
  const connection = new SQLite(file);
  // WAL lets readers proceed while a writer commits; busy_timeout covers the other
  // processes (CLI, second node) that share the file.
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = NORMAL");
  connection.pragma("foreign_keys = ON");
  connection.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(connection) }) });
  const changes = createInProcessChangeFeed();
  // Called by the audit_events trigger (migration 004): wakes this process's datafeed long-polls.
  // Delivery is deferred, and the woken reader's query waits for the writer's transaction.
  connection.function("tessera_audit_written", (orgId: unknown) => {
    void changes.publish(auditTopic, orgId === null ? "" : String(orgId));
    return null;
  });
  const readCache = createSqliteReadCache(connection);
  return {
    name: "sqlite",
    db,
    idColumnType: "integer",
    autoIncrement: (column) => column.primaryKey().autoIncrement(),
    bigintColumnType: "integer",
    changes,
    cache: readCache.cache,
    armReadCache: readCache.arm,
    isUnavailableError(error) {
      const code = (error as { code?: unknown } | null)?.code;
      return typeof code === "string" && unavailableCodes.has(code);
    },
    isUniqueViolation(error) {
      const code = (error as { code?: unknown } | null)?.code;
      return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
    },
    lockOrg: async () => {},
    async installAuditFeed(migrating) {
      await sql`alter table audit_events add column tx_id integer not null default 0`.execute(migrating);
      await sql`create trigger audit_events_written after insert on audit_events
        begin select tessera_audit_written(new.org_id); end`.execute(migrating);
    },
    settledAuditHorizon: async () => Number.MAX_SAFE_INTEGER,
    withStartupLock: (task) => withSqliteStartupLock(file, task),
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await changes.close();
      await db.destroy();
    },
  };
}
