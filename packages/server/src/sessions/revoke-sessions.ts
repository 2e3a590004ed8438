import type { Kysely } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import type { Database } from "../storage/schema.ts";

export interface RevocationAudit {
  actorUserId: number | null;
  reason: "logout" | "admin" | "password_changed";
  ip: string | null;
}

/**
 * Which sessions to end: within one org (all, one user's, or one session), or every session of
 * one account in every org (a credential change ends them all).
 */
export type RevocationScope =
  | { orgId: number; sessionId?: number; userId?: number; exceptOwners?: boolean }
  | { userId: number; everyOrg: true };

/**
 * Revokes the sessions matched by `scope`; their tokens answer 401 from the next request on. Returns
 * how many. Runs in `executor` when given (the caller's transaction), else in a transaction of its own.
 */
export async function revokeSessions(
  ctx: AppContext,
  scope: RevocationScope,
  audit: RevocationAudit,
  executor?: Kysely<Database>,
): Promise<number> {
  if (executor) return revokeIn(ctx, executor, scope, audit);
  return ctx.db.transaction().execute((trx) => revokeIn(ctx, trx, scope, audit));
}

async function revokeIn(
  ctx: AppContext,
  trx: Kysely<Database>,
  scope: RevocationScope,
  audit: RevocationAudit,
): Promise<number> {
  const now = ctx.clock.now();
  let query = trx
    .updateTable("sessions")
    .set({ revoked_at: now })
    .where("revoked_at", "is", null)
    .where("absolute_expires_at", ">", now);
  if ("everyOrg" in scope) query = query.where("user_id", "=", scope.userId);
  else {
    query = query.where("org_id", "=", scope.orgId);
    if (scope.sessionId !== undefined) query = query.where("id", "=", scope.sessionId);
    if (scope.userId !== undefined) query = query.where("user_id", "=", scope.userId);
    if (scope.exceptOwners) {
      const orgId = scope.orgId;
      query = query.where("membership_id", "not in", (eb) =>
        eb.selectFrom("memberships").select("id").where("org_id", "=", orgId).where("role", "=", "owner"),
      );
    }
  }
  const revoked = await query.returning(["id", "user_id", "org_id"]).execute();
  for (const session of revoked) {
    // Leaves with the commit: every node's caches drop the session before its next request.
    await ctx.storage.changes.publish("session", String(session.id), trx);
    await recordAudit(trx, now, {
      type: "session.revoked",
      orgId: session.org_id,
      actorUserId: audit.actorUserId,
      subjectUserId: session.user_id,
      data: { sessionId: session.id, reason: audit.reason },
      ip: audit.ip,
    });
  }
  return revoked.length;
}
