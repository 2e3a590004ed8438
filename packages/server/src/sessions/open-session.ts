import type { Role, SessionTokenResponse, TokenKind } from "@tessera/protocol";
import type { ServiceSessionKind } from "../access/service-session.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { generateToken, hashToken } from "../crypto/tokens.ts";
import { readSessionPolicy } from "../policies/policies.ts";
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
async function openSession(
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

/** The answer of a login or renewal: the token and its window, as clients of that API read it. */
export function userSessionResponse(
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
export async function openUserSession(
  ctx: AppContext,
  userId: number,
  org: { orgId: number; membershipId: number },
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
  return userSessionResponse(token, expiresAt, now, userId, org.orgId);
}

/** The membership a service session is opened for. */
export interface ServiceAccount {
  userId: number;
  username: string;
  orgId: number;
  membershipId: number;
  role: Role;
}

const tokenKinds = { service: "serviceSession", keymanager: "keyManagerSession" } as const;

export interface OpenedServiceSession {
  token: string;
  sessionId: number;
  expiresAt: number;
}

/**
 * Opens a service or key-manager session for the org's service-session lifetime (1 h…2 weeks,
 * default 24 h). There is no renewal: the holder authenticates again after a 401.
 */
export async function openServiceSession(
  ctx: AppContext,
  account: ServiceAccount,
  kind: ServiceSessionKind,
  audit: { ip: string; method: "certificate" | "key_pair" },
): Promise<OpenedServiceSession> {
  const policy = await readSessionPolicy(ctx.storage, account.orgId);
  const now = ctx.clock.now();
  const expiresAt = now + policy.serviceSessionSeconds * 1000;
  const { token, sessionId } = await openSession(
    ctx,
    tokenKinds[kind],
    {
      kind,
      userId: account.userId,
      orgId: account.orgId,
      membershipId: account.membershipId,
      // No renewal: the first window is the whole session.
      expiresAt,
      absoluteExpiresAt: expiresAt,
      method: audit.method,
      ip: audit.ip,
    },
    now,
  );
  return { token, sessionId, expiresAt };
}
