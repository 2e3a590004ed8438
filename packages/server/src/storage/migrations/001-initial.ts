import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// Migrations are written against an untyped Kysely: they describe history, not today's schema.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyDb = Kysely<any>;

export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  const id = dialect.idColumnType;
  const big = dialect.bigintColumnType;

  await db.schema
    .createTable("orgs")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("name", "text", (c) => c.notNull().unique())
    .addColumn("created_at", big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("users")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("username", "text", (c) => c.unique())
    .addColumn("password_hash", "text")
    .addColumn("password_changed_at", big)
    .addColumn("must_change_password", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("is_system_admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked_until", big)
    .addColumn("created_at", big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("memberships")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("active", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", big, (c) => c.notNull())
    .addUniqueConstraint("memberships_org_user", ["org_id", "user_id"])
    .execute();
  await db.schema.createIndex("memberships_user").on("memberships").column("user_id").execute();

  await db.schema
    .createTable("password_history")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("created_at", big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("password_history_user").on("password_history").column("user_id").execute();

  await db.schema
    .createTable("password_policies")
    .addColumn("org_id", big, (c) => c.primaryKey().references("orgs.id"))
    .addColumn("min_length", "integer", (c) => c.notNull())
    .addColumn("max_age_days", "integer", (c) => c.notNull())
    .addColumn("history_count", "integer", (c) => c.notNull())
    .addColumn("max_failed_attempts", "integer", (c) => c.notNull())
    .addColumn("lockout_minutes", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("session_policies")
    .addColumn("org_id", big, (c) => c.primaryKey().references("orgs.id"))
    .addColumn("user_idle_seconds", "integer", (c) => c.notNull())
    .addColumn("user_absolute_seconds", "integer", (c) => c.notNull())
    .addColumn("service_session_seconds", "integer", (c) => c.notNull())
    .addColumn("renew_grace_seconds", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("membership_id", big, (c) => c.notNull().references("memberships.id"))
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("expires_at", big, (c) => c.notNull())
    .addColumn("absolute_expires_at", big, (c) => c.notNull())
    .addColumn("revoked_at", big)
    .execute();
  await db.schema.createIndex("sessions_org").on("sessions").columns(["org_id", "expires_at"]).execute();
  await db.schema.createIndex("sessions_user").on("sessions").column("user_id").execute();

  await db.schema
    .createTable("session_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("session_id", big, (c) => c.notNull().references("sessions.id"))
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("grace_ends_at", big)
    .execute();
  await db.schema.createIndex("session_tokens_session").on("session_tokens").column("session_id").execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("membership_id", big, (c) => c.notNull().references("memberships.id"))
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("key_hash", "text", (c) => c.notNull().unique())
    .addColumn("prefix", "text", (c) => c.notNull())
    .addColumn("created_by_user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("last_used_at", big)
    .addColumn("revoked_at", big)
    .execute();
  await db.schema.createIndex("api_keys_org").on("api_keys").column("org_id").execute();

  await db.schema
    .createTable("audit_events")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.references("orgs.id"))
    .addColumn("actor_user_id", big)
    .addColumn("subject_user_id", big)
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("ip", "text")
    .addColumn("created_at", big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("audit_events_org").on("audit_events").columns(["org_id", "id"]).execute();

  await db.schema
    .createTable("server_secrets")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("created_at", big, (c) => c.notNull())
    .execute();
}
