import type { Database } from "@tessera/server/internal/storage/schema.ts";
import type { Kysely } from "kysely";

/**
 * Service users inserted directly, as the admin API would create them (kind service,
 * username = certificate CN, no password, a membership with role `service`).
 */
export async function createServiceUser(
  db: Kysely<Database>,
  options: { orgId: number; username: string; active?: boolean; membershipActive?: boolean; now?: number },
): Promise<{ userId: number; membershipId: number }> {
  const now = options.now ?? Date.now();
  const user = await db
    .insertInto("users")
    .values({
      email: `${options.username.toLowerCase().replace(/[^a-z0-9.-]/g, "-")}@service.example.com`,
      display_name: `${options.username} (bot)`,
      kind: "service",
      username: options.username,
      password_hash: null,
      password_changed_at: null,
      must_change_password: 0,
      active: options.active === false ? 0 : 1,
      is_system_admin: 0,
      failed_attempts: 0,
      locked_until: null,
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  const membership = await db
    .insertInto("memberships")
    .values({
      org_id: options.orgId,
      user_id: user.id,
      role: "service",
      active: options.membershipActive === false ? 0 : 1,
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { userId: user.id, membershipId: membership.id };
}

export async function createOrg(db: Kysely<Database>, name: string, now = Date.now()): Promise<number> {
  const org = await db.insertInto("orgs").values({ name, created_at: now }).returning("id").executeTakeFirstOrThrow();
  return org.id;
}
