import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { Database } from "../schema.ts";
import type { StorageDialect } from "./dialect.ts";

// int8 (bigint, bigserial, count(*)) arrives as a string by default; every such value in
// Tessera (ids, Unix-millisecond times, counts) fits in a double exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export function openPostgres(connectionString: string): StorageDialect {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // A dropped connection must not crash the process; requests get 503 until it returns.
  pool.on("error", () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    name: "postgres",
    db,
    idColumnType: "bigserial",
    autoIncrement: (column) => column.primaryKey(),
    bigintColumnType: "bigint",
    async ping() {
      try {
        await sql`select 1`.execute(db);
        return true;
      } catch {
        return false;
      }
    },
    close: () => db.destroy(),
  };
}
