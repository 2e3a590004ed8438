import type { SessionSummary } from "@tessera/protocol";
import { assertMayActOn } from "../access/owner-guard.ts";
import type { Principal } from "../access/principal.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { revokeSessions } from "./revoke-sessions.ts";

function liveSessionsQuery(ctx: AppContext, orgId: number, now: number) {
  return ctx.db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .innerJoin("memberships as m", "m.id", "s.membership_id")
    .select([
      "s.id",
      "s.kind",
      "s.user_id",
      "s.membership_id",
      "u.email",
      "s.created_at",
      "s.expires_at",
      "s.absolute_expires_at",
      "m.role",
    ])
    .where("s.org_id", "=", orgId)
    .where("s.revoked_at", "is", null)
    .where("s.expires_at", ">", now)
    .where("s.absolute_expires_at", ">", now);
}

/** `GET /admin/orgs/{orgId}/sessions[?userId=]`: live sessions (not revoked, not expired), oldest first. */
export async function listLiveSessions(
  ctx: AppContext,
  orgId: number,
  filter: { userId?: number },
): Promise<SessionSummary[]> {
  let query = liveSessionsQuery(ctx, orgId, ctx.clock.now());
  if (filter.userId !== undefined) query = query.where("s.user_id", "=", filter.userId);
  const rows = await query.orderBy("s.id").execute();
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    userId: row.user_id,
    orgUserId: row.membership_id,
    email: row.email,
    createdAt: toUnixSeconds(row.created_at),
    expiresAt: toUnixSeconds(Math.min(row.expires_at, row.absolute_expires_at)),
    absoluteExpiresAt: toUnixSeconds(row.absolute_expires_at),
  }));
}

function adminRevocation(caller: Principal, ip: string) {
  return { actorUserId: caller.userId, reason: "admin" as const, ip };
}

/** `DELETE /admin/orgs/{orgId}/sessions/{sessionId}`: 404 unless it is a live session of this org; an owner's is an owner's to revoke. */
export async function revokeOneSession(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  sessionId: number,
  ip: string,
): Promise<void> {
  const live = await liveSessionsQuery(ctx, orgId, ctx.clock.now()).where("s.id", "=", sessionId).executeTakeFirst();
  if (live) assertMayActOn(caller, live.role, "revoke a session of an owner");
  const revoked = live ? await revokeSessions(ctx, { orgId, sessionId }, adminRevocation(caller, ip)) : 0;
  if (revoked === 0) throw new TesseraError("not_found", `No live session ${sessionId} in this organisation`);
}

/** `DELETE /admin/orgs/{orgId}/users/{userId}/sessions`: every session of one member; 404 if not a member, 403 for an admin naming an owner. */
export async function revokeUserSessions(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  userId: number,
  ip: string,
): Promise<number> {
  const member = await ctx.db
    .selectFrom("memberships")
    .select(["id", "role"])
    .where("org_id", "=", orgId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!member) throw new TesseraError("not_found", `No user ${userId} in this organisation`);
  assertMayActOn(caller, member.role, "revoke the sessions of an owner");
  return revokeSessions(ctx, { orgId, userId }, adminRevocation(caller, ip));
}

/**
 * `DELETE /admin/orgs/{orgId}/sessions`: every session of the org, the caller's own included. An
 * admin who is not an owner has no power over owners, so its sweep spares their sessions rather
 * than refusing: the lever still works in an incident, and an owner can pull it for everyone.
 */
export function revokeOrgSessions(ctx: AppContext, caller: Principal, orgId: number, ip: string): Promise<number> {
  return revokeSessions(ctx, { orgId, exceptOwners: caller.role !== "owner" }, adminRevocation(caller, ip));
}
