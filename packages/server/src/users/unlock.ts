import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { selectActiveMemberships } from "./active-memberships.ts";

/**
 * `POST /admin/orgs/{orgId}/users/{userId}/unlock`: ends a lockout and clears the failure count.
 * An org admin may do it for the org's active members (owners only by an owner); a system admin,
 * acting with its user session, for any account.
 */
export async function unlockUser(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  userId: number,
  ip: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    if (!caller.isSystemAdmin) {
      const membership = await selectActiveMemberships(trx)
        .select("m.role")
        .where("m.org_id", "=", orgId)
        .where("m.user_id", "=", userId)
        .executeTakeFirst();
      if (!membership) throw new TesseraError("not_found", `No user ${userId} in this organisation`);
      if (membership.role === "owner" && caller.role !== "owner") {
        throw new TesseraError("forbidden", "Only an owner may unlock an owner");
      }
    }
    const unlocked = await trx
      .updateTable("users")
      .set({ failed_attempts: 0, locked_until: null })
      .where("id", "=", userId)
      .returning("id")
      .executeTakeFirst();
    if (!unlocked) throw new TesseraError("not_found", `No user ${userId}`);
    await recordAudit(trx, now, {
      type: "user.unlocked",
      orgId,
      actorUserId: caller.userId,
      subjectUserId: userId,
      ip,
    });
  });
}
