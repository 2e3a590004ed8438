import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StorageDialect } from "@tessera/server/internal/storage/dialects/dialect.ts";
import { openStorage } from "@tessera/server/internal/storage/open-storage.ts";
import pg from "pg";

export type TestStore = "sqlite" | "postgres";

/** The store this test run uses: TESSERA_TEST_STORE, set by scripts/test.ts (SQLite by default). */
export const testStore: TestStore = process.env.TESSERA_TEST_STORE === "postgres" ? "postgres" : "sqlite";

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** The superuser URL of the run's PostgreSQL cluster (TESSERA_TEST_DATABASE_URL). */
export function testClusterUrl(): string {
  const url = process.env.TESSERA_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      "TESSERA_TEST_STORE=postgres needs TESSERA_TEST_DATABASE_URL; run the suite with `npm run test:postgres`, " +
        "which starts a PostgreSQL cluster for the run",
    );
  }
  return url;
}

async function withAdminClient<T>(adminUrl: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on("error", () => {});
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database in the cluster, so that test files stay isolated and run concurrently. */
export async function createTestDatabase(adminUrl: string = testClusterUrl()): Promise<TestDatabase> {
  const name = `tessera_t_${randomBytes(6).toString("hex")}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await withAdminClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/**
 * Opens (and migrates) storage on the run's store without an app: a SQLite file in a fresh
 * directory, or a fresh PostgreSQL database. `open()` gives more connections to the same
 * database, as more nodes would have.
 */
export async function openTestStorage(): Promise<{
  storage: StorageDialect;
  databaseUrl: string | undefined;
  open(): Promise<StorageDialect>;
  close(): Promise<void>;
}> {
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-storage-"));
  const database = testStore === "postgres" ? await createTestDatabase() : undefined;
  const opened: StorageDialect[] = [];
  const open = async () => {
    const storage = await openStorage({ dataDir, databaseUrl: database?.url, poolSize: 2 });
    opened.push(storage);
    return storage;
  };
  const storage = await open();
  return {
    storage,
    databaseUrl: database?.url,
    open,
    async close() {
      await Promise.all(opened.map((each) => each.close()));
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
