import type { Kysely } from "kysely";
import type { Database } from "../storage/schema.ts";

/**
 * Memberships that count: the ones whose org's rules bind the account and whose admins may act on
 * it. The one place that says which state that is, for when a membership gains another one.
 */
export function selectActiveMemberships(db: Kysely<Database>) {
  return db.selectFrom("memberships as m").where("m.active", "=", 1);
}
