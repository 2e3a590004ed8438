import type { OwnSession } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { revokeSessions } from "./revoke-sessions.ts";

/**
 * A person's own sessions, in every org it belongs to (ASVS 3.3.4: see and end the other
 * devices). They are asked for with a session token: an API key has no session to be "current",
 * and an integration holding one has no business ending its person's logins.
 */

function sessionOf(principal: Principal): number {
  if (principal.via !== "session" || principal.sessionId === null) {
    throw new TesseraError("invalid_request", "An API key has no sessions; use a session token");
  }
  return principal.sessionId;
}

function ownLiveSessionsQuery(ctx: AppContext, userId: number) {
  const now = ctx.clock.now();
  return ctx.db
    .selectFrom("sessions")
    .select(["id", "kind", "org_id", "created_at", "expires_at", "absolute_expires_at"])
    .where("user_id", "=", userId)
    .where("kind", "=", "user")
    .where("revoked_at", "is", null)
    .where("expires_at", ">", now)
    .where("absolute_expires_at", ">", now);
}

/** `GET /user/sessions`: the caller's live user sessions, oldest first, its own marked `current`. */
export async function listOwnSessions(ctx: AppContext, principal: Principal): Promise<OwnSession[]> {
  const currentId = sessionOf(principal);
  const rows = await ownLiveSessionsQuery(ctx, principal.userId).orderBy("id").execute();
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    orgId: row.org_id,
    createdAt: toUnixSeconds(row.created_at),
    expiresAt: toUnixSeconds(Math.min(row.expires_at, row.absolute_expires_at)),
    current: row.id === currentId,
  }));
}

function logoutBy(principal: Principal, ip: string) {
  return { actorUserId: principal.userId, reason: "logout" as const, ip };
}

/** `DELETE /user/sessions/{id}`: ends one of the caller's live sessions; 404 for any other. */
export async function revokeOwnSession(
  ctx: AppContext,
  principal: Principal,
  sessionId: number,
  ip: string,
): Promise<void> {
  sessionOf(principal);
  const own = await ownLiveSessionsQuery(ctx, principal.userId).where("id", "=", sessionId).executeTakeFirst();
  const revoked = own ? await revokeSessions(ctx, { orgId: own.org_id, sessionId }, logoutBy(principal, ip)) : 0;
  if (revoked === 0) throw new TesseraError("not_found", `No live session ${sessionId} of yours`);
}

/** `POST /user/sessions/revoke-others`: ends every live session of the caller but the current one. */
export async function revokeOtherOwnSessions(ctx: AppContext, principal: Principal, ip: string): Promise<number> {
  const currentId = sessionOf(principal);
  const others = await ownLiveSessionsQuery(ctx, principal.userId).where("id", "!=", currentId).execute();
  let revoked = 0;
  for (const session of others) {
    revoked += await revokeSessions(ctx, { orgId: session.org_id, sessionId: session.id }, logoutBy(principal, ip));
  }
  return revoked;
}
