import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/** Single sign-on: per-org OpenID Connect settings, sign-on attempts in flight, and handover codes. */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  const id = dialect.idColumnType;
  const big = dialect.bigintColumnType;

  await db.schema
    .createTable("sso_configs")
    .addColumn("org_id", big, (c) => c.primaryKey().references("orgs.id"))
    .addColumn("issuer", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("client_secret_sealed", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("jit_provisioning", "integer", (c) => c.notNull())
    .addColumn("default_role", "text", (c) => c.notNull())
    .addColumn("allowed_email_domains", "text", (c) => c.notNull())
    .addColumn("allowed_return_urls", "text", (c) => c.notNull())
    .addColumn("require_email_verified", "integer", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("updated_at", big, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("sso_login_attempts")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("state_hash", "text", (c) => c.notNull().unique())
    .addColumn("browser_binding_hash", "text", (c) => c.notNull())
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("nonce", "text", (c) => c.notNull())
    .addColumn("code_verifier", "text", (c) => c.notNull())
    .addColumn("redirect_uri", "text", (c) => c.notNull())
    .addColumn("return_to", "text")
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("consumed_at", big)
    .execute();
  await db.schema.createIndex("sso_login_attempts_created").on("sso_login_attempts").column("created_at").execute();

  await db.schema
    .createTable("sso_handovers")
    .addColumn("code_hash", "text", (c) => c.primaryKey())
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("expires_at", big, (c) => c.notNull())
    .addColumn("consumed_at", big)
    .execute();
}
