import type { SessionTokenResponse } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { deriveSuccessorToken, hashToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { readSessionPolicy } from "../policies/policies.ts";
import { openSession } from "../sessions/open-session.ts";
import type { ActiveOrg } from "./credentials.ts";

function tokenResponse(
  token: string,
  expiresAt: number,
  now: number,
  userId: number,
  orgId: number,
): SessionTokenResponse {
  return {
    token,
    expiresAt: toUnixSeconds(expiresAt),
    expiresIn: Math.max(0, Math.floor((expiresAt - now) / 1000)),
    tokenType: "Bearer",
    userId,
    orgId,
  };
}

/** Opens a user session in `org` with the org's idle window and absolute cap. */
export async function createUserSession(
  ctx: AppContext,
  userId: number,
  org: ActiveOrg,
  audit: { ip: string; method: "password" | "sso" },
): Promise<SessionTokenResponse> {
  const policy = await readSessionPolicy(ctx.storage, org.orgId);
  const now = ctx.clock.now();
  const absoluteExpiresAt = now + policy.userAbsoluteSeconds * 1000;
  const expiresAt = Math.min(now + policy.userIdleSeconds * 1000, absoluteExpiresAt);
  const { token } = await openSession(
    ctx,
    "userSession",
    {
      kind: "user",
      userId,
      orgId: org.orgId,
      membershipId: org.membershipId,
      expiresAt,
      absoluteExpiresAt,
      method: audit.method,
      ip: audit.ip,
    },
    now,
  );
  return tokenResponse(token, expiresAt, now, userId, org.orgId);
}

/**
 * Renews a user session: a new token with a new idle window, never past the absolute cap.
 * Every renewal of the same token inside the grace window gets the same new token (it is
 * derived, not drawn), and the old token stops working when the grace ends.
 */
export async function renewUserSession(
  ctx: AppContext,
  principal: Principal,
  token: string,
  ip: string,
): Promise<SessionTokenResponse> {
  const sessionId = principal.sessionId;
  const absoluteExpiresAt = principal.sessionAbsoluteExpiresAt;
  if (principal.via !== "session" || sessionId === null || absoluteExpiresAt === null) {
    throw new TesseraError("invalid_request", "API keys do not expire and cannot be renewed");
  }
  const policy = await readSessionPolicy(ctx.storage, principal.orgId);
  const successor = deriveSuccessorToken(ctx.renewalKey, token);
  const now = ctx.clock.now();
  const expiresAt = Math.min(now + policy.userIdleSeconds * 1000, absoluteExpiresAt);
  const retiredHere = await ctx.db.transaction().execute(async (trx) => {
    // Only the first renewal retires the token; the others find it retired and reuse its successor.
    const retired = await trx
      .updateTable("session_tokens")
      .set({ grace_ends_at: now + policy.renewGraceSeconds * 1000 })
      .where("token_hash", "=", principal.tokenHash)
      .where("grace_ends_at", "is", null)
      .executeTakeFirst();
    if (retired.numUpdatedRows !== 1n) return false;
    await trx
      .insertInto("session_tokens")
      .values({ token_hash: hashToken(successor), session_id: sessionId, created_at: now, grace_ends_at: null })
      .onConflict((conflict) => conflict.column("token_hash").doNothing())
      .execute();
    await trx.updateTable("sessions").set({ expires_at: expiresAt }).where("id", "=", sessionId).execute();
    await recordAudit(trx, now, {
      type: "session.renewed",
      orgId: principal.orgId,
      actorUserId: principal.userId,
      subjectUserId: principal.userId,
      data: { sessionId },
      ip,
    });
    return true;
  });
  if (retiredHere) return tokenResponse(successor, expiresAt, now, principal.userId, principal.orgId);
  // Another renewal of this token came first: answer what it made, as the session stands now.
  const session = await ctx.db
    .selectFrom("sessions")
    .select("expires_at")
    .where("id", "=", sessionId)
    .executeTakeFirstOrThrow();
  return tokenResponse(
    await currentTokenFrom(ctx, successor),
    session.expires_at,
    now,
    principal.userId,
    principal.orgId,
  );
}

/** Longest chain of renewals a late caller follows; chains only grow inside grace windows. */
const maxRenewalChain = 1000;

/**
 * A late renewal of a token whose successor has itself been renewed follows the derivation
 * chain to the session's current token, rather than answer with one that dies when its grace ends.
 */
async function currentTokenFrom(ctx: AppContext, successor: string): Promise<string> {
  let token = successor;
  for (let step = 0; step < maxRenewalChain; step++) {
    const row = await ctx.db
      .selectFrom("session_tokens")
      .select("grace_ends_at")
      .where("token_hash", "=", hashToken(token))
      .executeTakeFirst();
    if (!row || row.grace_ends_at === null) return token;
    token = deriveSuccessorToken(ctx.renewalKey, token);
  }
  return token;
}

export interface RevocationAudit {
  actorUserId: number | null;
  reason: "logout" | "admin" | "password_changed";
  ip: string | null;
}

/** Revokes the sessions matched by `scope`; their tokens answer 401 from the next request on. Returns how many. */
export async function revokeSessions(
  ctx: AppContext,
  scope: { orgId: number; sessionId?: number; userId?: number },
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
