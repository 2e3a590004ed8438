import { type Role, rolePermissions } from "@tessera/protocol";
import { type Principal, resolveApiKey, resolveSessionToken } from "../access/principal.ts";
import { verifyAuthorizationToken } from "../authorization-tokens/tokens.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { findLiveServiceSession, type LiveServiceSession } from "../service-sessions/service-session-store.ts";

export type IdentifiedTokenType =
  | "user_session"
  | "api_key"
  | "service_session"
  | "keymanager_session"
  | "authorization_token";

/** Who a live token speaks for, from current data, whatever its kind. */
export interface TokenIdentity {
  tokenType: IdentifiedTokenType;
  userId: number;
  username: string;
  orgId: number;
  role: Role;
  permissions: readonly string[];
  sessionId: number | null;
  /** Unix ms; null when unknown. */
  issuedAt: number | null;
  /** Unix ms; null for API keys, which never expire. */
  expiresAt: number | null;
}

function fromPrincipal(principal: Principal): TokenIdentity {
  return {
    tokenType: principal.via === "apiKey" ? "api_key" : "user_session",
    userId: principal.userId,
    username: principal.email,
    orgId: principal.orgId,
    role: principal.role,
    permissions: principal.permissions,
    sessionId: principal.sessionId,
    issuedAt: null,
    expiresAt: principal.sessionExpiresAt,
  };
}

function fromServiceSession(session: LiveServiceSession): TokenIdentity {
  return {
    tokenType: session.kind === "service" ? "service_session" : "keymanager_session",
    userId: session.userId,
    username: session.username,
    orgId: session.orgId,
    role: session.role,
    permissions: session.permissions,
    sessionId: session.sessionId,
    issuedAt: session.createdAt,
    expiresAt: session.expiresAt,
  };
}

/** Undefined when the resolver refuses the token (401): unknown, expired, revoked or malformed. */
async function unlessRefused(resolve: () => Promise<Principal>): Promise<TokenIdentity | undefined> {
  try {
    return fromPrincipal(await resolve());
  } catch (error) {
    if (error instanceof TesseraError && error.status === 401) return undefined;
    throw error;
  }
}

/**
 * Resolves any Tessera token to its identity, or undefined when it is not live. An
 * authorization token is live while its signature, expiry and its session all are: a
 * revoked session takes its short-lived tokens with it.
 */
export async function identifyToken(ctx: AppContext, token: string): Promise<TokenIdentity | undefined> {
  if (token.startsWith("tsu_")) return unlessRefused(() => resolveSessionToken(ctx, token));
  if (token.startsWith("tsk_")) return unlessRefused(() => resolveApiKey(ctx, token));
  if (token.startsWith("tss_")) {
    const session = await findLiveServiceSession(ctx, token, "service");
    return session && fromServiceSession(session);
  }
  if (token.startsWith("tsm_")) {
    const session = await findLiveServiceSession(ctx, token, "keymanager");
    return session && fromServiceSession(session);
  }
  const claims = await verifyAuthorizationToken(ctx, token);
  if (!claims) return undefined;
  const row = await ctx.db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .innerJoin("memberships as m", "m.id", "s.membership_id")
    .select([
      "s.revoked_at",
      "s.expires_at",
      "u.id as user_id",
      "u.username",
      "u.email",
      "u.active",
      "m.role",
      "m.active as m_active",
    ])
    .where("s.id", "=", claims.sid)
    .executeTakeFirst();
  const now = ctx.clock.now();
  if (
    !row ||
    String(row.user_id) !== claims.sub ||
    row.revoked_at !== null ||
    now >= row.expires_at ||
    row.active !== 1 ||
    row.m_active !== 1
  ) {
    return undefined;
  }
  // The token's permissions, but never more than the role grants today.
  const granted = new Set<string>(rolePermissions[row.role]);
  return {
    tokenType: "authorization_token",
    userId: row.user_id,
    username: row.username ?? row.email,
    orgId: claims.org,
    role: row.role,
    permissions: claims.permissions.filter((permission) => granted.has(permission)),
    sessionId: claims.sid,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
  };
}
