import { join } from "node:path";
import type { StorageDialect } from "./dialects/dialect.ts";
import { openPostgres } from "./dialects/postgres/postgres-dialect.ts";
import { openSqlite } from "./dialects/sqlite/sqlite-dialect.ts";
import { migrateToLatest } from "./migrate.ts";

export interface StorageOptions {
  /** `postgres://…` selects PostgreSQL; unset means SQLite in the data directory. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Most pooled PostgreSQL connections this process opens (TESSERA_DB_POOL_SIZE). */
  poolSize?: number | undefined;
}

export const defaultPoolSize = 10;

/** Opens the configured database and brings its schema up to date (one node at a time). */
export async function openStorage(options: StorageOptions): Promise<StorageDialect> {
  const storage = options.databaseUrl
    ? openPostgres({ connectionString: options.databaseUrl, poolSize: options.poolSize ?? defaultPoolSize })
    : openSqlite(join(options.dataDir, "tessera.db"));
  try {
    await storage.withStartupLock(() => migrateToLatest(storage));
    storage.armReadCache();
  } catch (error) {
    await storage.close();
    throw error;
  }
  return storage;
}
