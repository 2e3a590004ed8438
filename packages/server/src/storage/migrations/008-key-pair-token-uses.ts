import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Key-pair login tokens already used, shared by every node on the database: a token opens at
 * most one session of each kind. Rows live until the token could no longer verify, then pruned.
 */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable("key_pair_token_uses")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("expires_at", dialect.bigintColumnType, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("key_pair_token_uses_expires_at")
    .on("key_pair_token_uses")
    .column("expires_at")
    .execute();
}
