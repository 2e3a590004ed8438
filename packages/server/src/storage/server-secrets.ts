import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * A named 256-bit secret shared by every node through the database, created on first use.
 * The insert-if-absent makes concurrent first starts agree on one value.
 */
export async function loadServerSecret(db: Kysely<Database>, name: string, now: number): Promise<Buffer> {
  await db
    .insertInto("server_secrets")
    .values({ name, value: randomBytes(32).toString("base64url"), created_at: now })
    .onConflict((conflict) => conflict.column("name").doNothing())
    .execute();
  const row = await db.selectFrom("server_secrets").select("value").where("name", "=", name).executeTakeFirstOrThrow();
  return Buffer.from(row.value, "base64url");
}
