import { type Kysely, sql } from "kysely";
import type { StorageDialect } from "../dialects/dialect.ts";

// biome-ignore lint/suspicious/noExplicitAny: migrations describe history, not today's schema
type AnyDb = Kysely<any>;

/**
 * Every account gets a home org (the org that owns it: only that org's trust anchors vouch for
 * it), and a membership records when its account accepted it: an invitation of another org's
 * account is a membership with no `accepted_at`, inactive until the account accepts.
 */
export async function up(db: AnyDb, dialect: StorageDialect): Promise<void> {
  const big = dialect.bigintColumnType;
  await db.schema
    .alterTable("users")
    .addColumn("home_org_id", big, (c) => c.references("orgs.id"))
    .execute();
  // The org of the oldest membership; an account without one (none are written that way) the first org.
  await db
    .updateTable("users")
    .set({
      home_org_id: sql`coalesce(
        (select m.org_id from memberships m where m.user_id = users.id order by m.created_at, m.id limit 1),
        (select min(o.id) from orgs o)
      )`,
    })
    .execute();
  await db.schema.createIndex("users_home_org").on("users").column("home_org_id").execute();

  await db.schema.alterTable("memberships").addColumn("accepted_at", big).execute();
  // Memberships written before invitations existed count as accepted.
  await db.updateTable("memberships").set({ accepted_at: sql`created_at` }).execute();
}
