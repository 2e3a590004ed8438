import type { Kysely } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Binds a handover code to the client that started the sign-on: the S256 challenge it gave at
 * /sso/{orgId}/login travels with the attempt to the handover, and POST /sso/token needs its
 * verifier (the PKCE idea, applied to Tessera's own code).
 */
export async function up(db: AnyDb, _dialect: StorageDialect): Promise<void> {
  await db.schema.alterTable("sso_login_attempts").addColumn("handover_challenge", "text").execute();
  await db.schema.alterTable("sso_handovers").addColumn("challenge", "text").execute();
}
