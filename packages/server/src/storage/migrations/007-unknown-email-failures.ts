import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Failed logins of emails without a password account, counted as an account's are, so that a
 * lockout answer reveals nothing about which emails exist. Keyed by a keyed hash of the
 * normalised email: the table holds no address in clear.
 */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  await db.schema
    .createTable("unknown_email_failures")
    .addColumn("email_hash", "text", (c) => c.primaryKey())
    .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_until", dialect.bigintColumnType)
    .execute();
}
