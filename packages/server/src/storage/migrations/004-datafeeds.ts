import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Datafeeds: a feed is a per-user cursor over the audit events (which are already written in
 * the transaction of the change they describe), plus the flags the expiry sweeper sets so that
 * "session.expired" and "password.expiring" are recorded once across all nodes.
 */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  const big = dialect.bigintColumnType;
  await dialect.installAuditFeed(db);
  await db.schema.createIndex("audit_events_order").on("audit_events").columns(["tx_id", "id"]).execute();

  await db.schema
    .createTable("datafeeds")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("tag", "text")
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("acked_tx", big, (c) => c.notNull())
    .addColumn("acked_id", big, (c) => c.notNull())
    .addColumn("pending_ack_id", "text")
    .addColumn("pending_tx", big)
    .addColumn("pending_id", big)
    .addColumn("pending_sent_at", big)
    .addColumn("version", big, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("datafeeds_user").on("datafeeds").column("user_id").execute();

  await db.schema
    .alterTable("sessions")
    .addColumn("expiry_recorded", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  // Sessions that ended before this version are not announced as news.
  await db.updateTable("sessions").set({ expiry_recorded: 1 }).where("expires_at", "<=", Date.now()).execute();
  await db.schema
    .createIndex("sessions_expiry_sweep")
    .on("sessions")
    .columns(["expiry_recorded", "expires_at"])
    .execute();
  await db.schema.alterTable("memberships").addColumn("password_warning_for", big).execute();
}
