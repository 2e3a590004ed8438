import type { SessionTokenResponse } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { deriveSuccessorToken, hashToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { readSessionPolicy } from "../policies/policies.ts";
import { userSessionResponse } from "./open-session.ts";

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
  if (retiredHere) return userSessionResponse(successor, expiresAt, now, principal.userId, principal.orgId);
  // Another renewal of this token came first: answer what it made, as the session stands now.
  const session = await ctx.db
    .selectFrom("sessions")
    .select("expires_at")
    .where("id", "=", sessionId)
    .executeTakeFirstOrThrow();
  return userSessionResponse(
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
