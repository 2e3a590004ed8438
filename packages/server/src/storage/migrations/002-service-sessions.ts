import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/** Trusted CAs, applications, service users' RSA keys and the authorization-token signing keys. */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  const id = dialect.idColumnType;
  const big = dialect.bigintColumnType;

  await db.schema
    .createTable("trusted_cas")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("pem", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("created_at", big, (c) => c.notNull())
    .addUniqueConstraint("trusted_cas_org_fingerprint", ["org_id", "fingerprint"])
    .execute();

  await db.schema
    .createTable("applications")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("manifest_certificate_pem", "text")
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("marked_for_deletion", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", big, (c) => c.notNull())
    .addUniqueConstraint("applications_org_name", ["org_id", "name"])
    .execute();

  await db.schema
    .createTable("service_rsa_keys")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("user_id", big, (c) => c.notNull().references("users.id"))
    .addColumn("public_key_pem", "text", (c) => c.notNull())
    .addColumn("fingerprint", "text", (c) => c.notNull())
    .addColumn("created_at", big, (c) => c.notNull())
    .addUniqueConstraint("service_rsa_keys_org_user_fingerprint", ["org_id", "user_id", "fingerprint"])
    .execute();
  await db.schema.createIndex("service_rsa_keys_user").on("service_rsa_keys").column("user_id").execute();

  await db.schema
    .createTable("signing_keys")
    .addColumn("kid", "text", (c) => c.primaryKey())
    .addColumn("alg", "text", (c) => c.notNull())
    .addColumn("private_jwk", "text", (c) => c.notNull())
    .addColumn("public_jwk", "text", (c) => c.notNull())
    .addColumn("created_at", big, (c) => c.notNull())
    .addColumn("retired_at", big)
    .execute();
}
