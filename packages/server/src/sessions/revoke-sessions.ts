import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";

export interface RevocationAudit {
  actorUserId: number | null;
  reason: "logout" | "admin" | "password_changed";
  ip: string | null;
}

/** Revokes the sessions matched by `scope`; their tokens answer 401 from the next request on. Returns how many. */
export async function revokeSessions(
  ctx: AppContext,
  scope: { orgId: number; sessionId?: number; userId?: number; exceptOwners?: boolean },
  audit: RevocationAudit,
): Promise<number> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable("sessions")
      .set({ revoked_at: now })
      .where("org_id", "=", scope.orgId)
      .where("revoked_at", "is", null)
      .where("absolute_expires_at", ">", now);
    if (scope.sessionId !== undefined) query = query.where("id", "=", scope.sessionId);
    if (scope.userId !== undefined) query = query.where("user_id", "=", scope.userId);
    if (scope.exceptOwners) {
      query = query.where("membership_id", "not in", (eb) =>
        eb.selectFrom("memberships").select("id").where("org_id", "=", scope.orgId).where("role", "=", "owner"),
      );
    }
    const revoked = await query.returning(["id", "user_id"]).execute();
    for (const session of revoked) {
      // Leaves with the commit: every node's caches drop the session before its next request.
      await ctx.storage.changes.publish("session", String(session.id), trx);
      await recordAudit(trx, now, {
        type: "session.revoked",
        orgId: scope.orgId,
        actorUserId: audit.actorUserId,
        subjectUserId: session.user_id,
        data: { sessionId: session.id, reason: audit.reason },
        ip: audit.ip,
      });
    }
    return revoked.length;
  });
}
