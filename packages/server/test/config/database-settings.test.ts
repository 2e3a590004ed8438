import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/config.ts";

describe("database settings", () => {
  it("pools 10 PostgreSQL connections unless TESSERA_DB_POOL_SIZE says otherwise", () => {
    assert.equal(loadConfig({ env: {} }).dbPoolSize, 10);
    assert.equal(loadConfig({ env: { TESSERA_DB_POOL_SIZE: "25" } }).dbPoolSize, 25);
    assert.equal(loadConfig({ argv: ["--db-pool-size", "3"], env: { TESSERA_DB_POOL_SIZE: "25" } }).dbPoolSize, 3);
  });

  it("stops start-up on a bad pool size, naming the setting", () => {
    for (const value of ["0", "-1", "ten", "1001", "2.5"]) {
      assert.throws(
        () => loadConfig({ env: { TESSERA_DB_POOL_SIZE: value } }),
        (error: unknown) => error instanceof ConfigError && error.setting === "TESSERA_DB_POOL_SIZE",
        value,
      );
    }
  });

  it("accepts postgres:// and postgresql:// URLs and refuses others, naming DATABASE_URL", () => {
    assert.equal(
      loadConfig({ env: { DATABASE_URL: "postgresql://tessera@db.internal:5432/tessera" } }).databaseUrl,
      "postgresql://tessera@db.internal:5432/tessera",
    );
    assert.throws(
      () => loadConfig({ env: { DATABASE_URL: "mysql://db/tessera" } }),
      (error: unknown) => error instanceof ConfigError && error.setting === "DATABASE_URL",
    );
  });
});
