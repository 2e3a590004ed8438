import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { auditTopic } from "../../change-feed.ts";
import { uncachedReads } from "../../read-cache.ts";
import type { Database } from "../../schema.ts";
import type { StorageDialect } from "../dialect.ts";
import { changeChannel, createNotifyChangeFeed } from "./notify-change-feed.ts";
import { isPostgresUnavailableError } from "./unavailable-errors.ts";

// int8 (bigint, bigserial, count(*)) arrives as a string by default; every such value in
// Tessera (ids, Unix-millisecond times, counts) fits in a double exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/** Key of the advisory lock that serialises start-up (migrations, bootstrap) across nodes. */
const startupLockKey = 0x7e55e4a;

/** How long a request waits for a pooled connection before it is answered 503. */
const connectTimeoutMs = 5_000;

export interface PostgresOptions {
  connectionString: string;
  poolSize: number;
}

export function openPostgres({ connectionString, poolSize }: PostgresOptions): StorageDialect {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // A connection that drops (PostgreSQL restarting, failing over, a proxy reaping it) must
  // not crash the process: the pool discards it, and requests get 503 until PostgreSQL is back.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const changes = createNotifyChangeFeed(connectionString, db);
  return {
    name: "postgres",
    db,
    idColumnType: "bigserial",
    autoIncrement: (column) => column.primaryKey(),
    bigintColumnType: "bigint",
    changes,
    // Several nodes: a notification may still be on its way to this node when a client that saw
    // the change elsewhere calls it, so no entry could be trusted without a round trip.
    cache: uncachedReads,
    armReadCache: () => {},
    isUnavailableError: isPostgresUnavailableError,
    isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === "23505",
    async lockOrg(trx, orgId) {
      await trx.selectFrom("orgs").select("id").where("id", "=", orgId).forUpdate().execute();
    },
    async installAuditFeed(migrating) {
      await sql`alter table audit_events add column tx_id bigint not null default txid_current()`.execute(migrating);
      // NOTIFY inside the writer's transaction: delivered to every node when (and only if) it commits.
      await sql
        .raw(`create or replace function tessera_audit_written() returns trigger language plpgsql as $$
          begin
            perform pg_notify('${changeChannel}', json_build_object('topic', '${auditTopic}', 'key', coalesce(new.org_id::text, ''))::text);
            return null;
          end $$`)
        .execute(migrating);
      await sql`create trigger audit_events_written after insert on audit_events
        for each row execute function tessera_audit_written()`.execute(migrating);
    },
    async settledAuditHorizon(reading) {
      const result = await sql<{
        horizon: number;
      }>`select txid_snapshot_xmin(txid_current_snapshot()) as horizon`.execute(reading);
      return Number(result.rows[0]?.horizon ?? 0);
    },
    async withStartupLock(task) {
      // A connection of its own: the task needs pooled connections while the lock is held.
      const client = new pg.Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs });
      client.on("error", () => {});
      await client.connect();
      try {
        await client.query("select pg_advisory_lock($1)", [startupLockKey]);
        return await task();
      } finally {
        // Ending the session releases the lock even if the unlock cannot be sent.
        await client.query("select pg_advisory_unlock($1)", [startupLockKey]).catch(() => {});
        await client.end().catch(() => {});
      }
    },
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
