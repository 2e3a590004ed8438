import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import type { Database } from "../schema.ts";
import type { StorageDialect } from "./dialect.ts";

export function openSqlite(file: string): StorageDialect {
  mkdirSync(dirname(file), { recursive: true });
  const connection = new SQLite(file);
  // WAL lets readers proceed while a writer commits; busy_timeout covers the other
  // processes (CLI, second node) that share the file.
  connection.pragma("journal_mode = WAL");
  connection.pragma("synchronous = NORMAL");
  connection.pragma("foreign_keys = ON");
  connection.pragma("busy_timeout = 5000");
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  return {
    name: "sqlite",
    db,
    idColumnType: "integer",
    autoIncrement: (column) => column.primaryKey().autoIncrement(),
    bigintColumnType: "integer",
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
