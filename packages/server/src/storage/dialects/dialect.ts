import type { ColumnDefinitionBuilder, Kysely } from "kysely";
import type { Database } from "../schema.ts";

/**
 * Everything that differs between SQLite and PostgreSQL lives behind this interface;
 * domain code and migrations never ask which database they run on.
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
  /** Whether the database is reachable (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
