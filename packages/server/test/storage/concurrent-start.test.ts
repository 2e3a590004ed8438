import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createTestDatabase, type TestDatabase, testStore } from "@tessera/test-kit/test-database.ts";
import { bootstrap } from "../../src/bootstrap.ts";
import type { StorageDialect } from "../../src/storage/dialects/dialect.ts";
import { openStorage } from "../../src/storage/open-storage.ts";

describe(`concurrent first starts on an empty ${testStore} database`, () => {
  let database: TestDatabase | undefined;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "tessera-race-"));
    if (testStore === "postgres") database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("migrate and bootstrap once, and every node comes up", async () => {
    const start = async (): Promise<{ storage: StorageDialect; created: boolean }> => {
      const storage = await openStorage({ dataDir, databaseUrl: database?.url, poolSize: 2 });
      const result = await storage.withStartupLock(() =>
        bootstrap(storage.db, Date.now(), { email: "race@example.com", password: "a long enough password" }),
      );
      return { storage, created: result !== undefined };
    };
    const nodes = await Promise.all([start(), start(), start(), start()]);
    try {
      assert.equal(nodes.filter((node) => node.created).length, 1);
      const [first] = nodes;
      assert.ok(first);
      const orgs = await first.storage.db.selectFrom("orgs").selectAll().execute();
      const users = await first.storage.db.selectFrom("users").selectAll().execute();
      const memberships = await first.storage.db.selectFrom("memberships").selectAll().execute();
      assert.equal(orgs.length, 1);
      assert.equal(users.length, 1);
      assert.equal(memberships.length, 1);
    } finally {
      await Promise.all(nodes.map((node) => node.storage.close()));
    }
  });
});
