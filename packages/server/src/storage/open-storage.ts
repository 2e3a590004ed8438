import { join } from "node:path";
import type { StorageDialect } from "./dialects/dialect.ts";
import { openPostgres } from "./dialects/postgres.ts";
import { openSqlite } from "./dialects/sqlite.ts";
import { migrateToLatest } from "./migrate.ts";

export interface StorageOptions {
  /** `postgres://…` selects PostgreSQL; unset means SQLite in the data directory. */
  databaseUrl?: string | undefined;
  dataDir: string;
}

/** Opens the configured database and brings its schema up to date. */
export async function openStorage(options: StorageOptions): Promise<StorageDialect> {
  const storage = options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : openSqlite(join(options.dataDir, "tessera.db"));
  await migrateToLatest(storage);
  return storage;
}
