import type { ColumnDefinitionBuilder, Kysely } from "kysely";
import type { ChangeFeed } from "../change-feed.ts";
import type { ReadCache } from "../read-cache.ts";
import type { Database } from "../schema.ts";

/**
 * Everything that differs between SQLite and PostgreSQL lives behind this interface (one
 * folder per dialect); domain code and migrations never ask which database they run on.
 */
export interface StorageDialect {
  readonly name: "sqlite" | "postgres";
  readonly db: Kysely<Database>;
  /** Column type of an auto-incrementing integer primary key. */
  readonly idColumnType: "integer" | "bigserial";
  /** Applies the dialect's auto-increment clause to a primary-key column. */
  autoIncrement(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** Column type for Unix-millisecond timestamps and other 64-bit integers. */
  readonly bigintColumnType: "integer" | "bigint";
  /** Invalidation channel between the nodes that share this database. */
  readonly changes: ChangeFeed;
  /** The exact cache of hot-path reads (see read-cache.ts); reads pass through until armed. */
  readonly cache: ReadCache;
  /** Starts the read cache once the schema is up to date (SQLite's change triggers need the tables). */
  armReadCache(): void;
  /**
   * Whether `error` means the database cannot be reached right now (down, restarting, failing
   * over, pool exhausted): answered 503 with Retry-After instead of 500.
   */
  isUnavailableError(error: unknown): boolean;
  /**
   * Whether `error` is a unique-constraint violation: two concurrent requests created the same
   * thing, and the loser of the race is answered 409 instead of 500.
   */
  isUniqueViolation(error: unknown): boolean;
  /**
   * Serialises changes to one organisation's memberships inside `trx` (invariants such as
   * "at least one active owner" read then write). PostgreSQL locks the org row; SQLite's single
   * connection already runs transactions one at a time.
   */
  lockOrg(trx: Kysely<Database>, orgId: number): Promise<void>;
  /**
   * Runs `task` while no other node on this database runs its own: concurrent first starts
   * must not race through migrations and bootstrap.
   */
  withStartupLock<T>(task: () => Promise<T>): Promise<T>;
  /**
   * Migration step: gives `audit_events` its `tx_id` column (the writing transaction on
   * PostgreSQL, 0 on SQLite) and a trigger that announces every new event on the change feed
   * (topic "audit", key the org id) once its transaction commits.
   */
  installAuditFeed(db: Kysely<Database>): Promise<void>;
  /**
   * Audit events whose `tx_id` is below this value are all committed or rolled back: a reader
   * that stops there never passes an event that commits later (PostgreSQL's snapshot xmin;
   * SQLite commits one writer at a time, so every event is settled).
   */
  settledAuditHorizon(db: Kysely<Database>): Promise<number>;
  /** Whether the database is reachable (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
