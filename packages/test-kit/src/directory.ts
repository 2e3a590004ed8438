import type { Role } from "@tessera/protocol";
import type { AppContext } from "@tessera/server/internal/context.ts";

/** Adds a person (without a password, as single sign-on users are) and a membership, straight in the database. */
export async function createPerson(
  ctx: AppContext,
  person: { email: string; orgId: number; role?: Role; active?: boolean; membershipActive?: boolean },
): Promise<number> {
  const now = ctx.clock.now();
  const user = await ctx.db
    .insertInto("users")
    .values({
      email: person.email,
      display_name: person.email,
      kind: "person",
      username: null,
      password_hash: null,
      password_changed_at: null,
      must_change_password: 0,
      active: person.active === false ? 0 : 1,
      is_system_admin: 0,
      failed_attempts: 0,
      locked_until: null,
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await ctx.db
    .insertInto("memberships")
    .values({
      org_id: person.orgId,
      user_id: user.id,
      role: person.role ?? "member",
      active: person.membershipActive === false ? 0 : 1,
      created_at: now,
    })
    .execute();
  return user.id;
}

/** The org's audit events of `type`, oldest first, with `data` parsed. */
export async function auditEvents(ctx: AppContext, type: string) {
  const rows = await ctx.db.selectFrom("audit_events").selectAll().where("type", "=", type).orderBy("id").execute();
  return rows.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
}
