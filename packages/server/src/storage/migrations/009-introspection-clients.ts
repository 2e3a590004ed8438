import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Registered introspection clients: a resource server (Apache's mod_oauth2, any RFC 7662 client)
 * authenticates with a client id and secret of one org. Only the secret's SHA-256 is stored.
 */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  const id = dialect.idColumnType;
  const big = dialect.bigintColumnType;
  await db.schema
    .createTable("introspection_clients")
    .addColumn("id", id, (c) => dialect.autoIncrement(c))
    .addColumn("org_id", big, (c) => c.notNull().references("orgs.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull().unique())
    .addColumn("secret_hash", "text", (c) => c.notNull())
    .addColumn("created_by_user_id", big, (c) => c.references("users.id"))
    .addColumn("created_at", big, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("introspection_clients_org").on("introspection_clients").column("org_id").execute();
}
