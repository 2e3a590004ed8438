import type { TokenKind } from "@tessera/protocol";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { generateToken, hashToken } from "../crypto/tokens.ts";
import type { SessionKind } from "../storage/schema.ts";

export interface NewSession {
  kind: SessionKind;
  userId: number;
  orgId: number;
  membershipId: number;
  /** Unix ms: end of the first window, and the cap no renewal passes. */
  expiresAt: number;
  absoluteExpiresAt: number;
  /** How the caller proved who it is, for the audit log. */
  method: "password" | "sso" | "certificate" | "key_pair";
  ip: string;
}

/**
 * Every kind of session starts here: the session, the hash of its first token (never the
 * token) and its `session.created` audit event, in one transaction.
 */
export async function openSession(
  ctx: AppContext,
  tokenKind: TokenKind,
  session: NewSession,
  now: number,
): Promise<{ token: string; sessionId: number }> {
  const token = generateToken(tokenKind);
  const sessionId = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("sessions")
      .values({
        kind: session.kind,
        user_id: session.userId,
        org_id: session.orgId,
        membership_id: session.membershipId,
        created_at: now,
        expires_at: session.expiresAt,
        absolute_expires_at: session.absoluteExpiresAt,
        revoked_at: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await trx
      .insertInto("session_tokens")
      .values({ token_hash: hashToken(token), session_id: row.id, created_at: now, grace_ends_at: null })
      .execute();
    await recordAudit(trx, now, {
      type: "session.created",
      orgId: session.orgId,
      actorUserId: session.userId,
      subjectUserId: session.userId,
      data: { sessionId: row.id, kind: session.kind, method: session.method },
      ip: session.ip,
    });
    return row.id;
  });
  return { token, sessionId };
}
