import { X509Certificate } from "node:crypto";
import type { Kysely } from "kysely";
import { readExtensions } from "../../certificates/certificate-extensions.ts";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Trusted CAs are looked up by the key identifier computed from their key (what a certificate's
 * authorityKeyIdentifier names) instead of read in full on every handshake.
 */
export async function up(db: AnyDb, _dialect: StorageDialect): Promise<void> {
  await db.schema.alterTable("trusted_cas").addColumn("key_id", "text").execute();
  const rows: { id: number; pem: string }[] = await db.selectFrom("trusted_cas").select(["id", "pem"]).execute();
  for (const row of rows) {
    const keyId = readExtensions(new X509Certificate(row.pem)).computedKeyId;
    await db.updateTable("trusted_cas").set({ key_id: keyId }).where("id", "=", row.id).execute();
  }
  await db.schema.createIndex("trusted_cas_key_id").on("trusted_cas").column("key_id").execute();
  await db.schema.createIndex("trusted_cas_fingerprint").on("trusted_cas").column("fingerprint").execute();
  await db.schema.createIndex("trusted_cas_subject").on("trusted_cas").column("subject").execute();
}
