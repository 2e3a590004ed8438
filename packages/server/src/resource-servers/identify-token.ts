import { type Role, rolePermissions } from "@tessera/protocol";
import { type BearerTokenKind, resolveSession, resolveToken, tokenKindOf } from "../access/resolve-token.ts";
import { verifyAuthorizationToken } from "../authorization-tokens/tokens.ts";
import type { AppContext } from "../context.ts";

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

const tokenTypes = {
  userSession: "user_session",
  apiKey: "api_key",
  serviceSession: "service_session",
  keyManagerSession: "keymanager_session",
} as const satisfies Record<BearerTokenKind, IdentifiedTokenType>;

/**
 * Resolves any Tessera token to its identity, or undefined when it is not live. An
 * authorization token is live while its signature, expiry and its session all are: a
 * revoked session takes its short-lived tokens with it.
 */
export async function identifyToken(ctx: AppContext, token: string): Promise<TokenIdentity | undefined> {
  if (tokenKindOf(token) !== undefined) {
    const live = await resolveToken(ctx, token);
    if (!live) return undefined;
    const isSession = live.kind !== "apiKey";
    return {
      tokenType: tokenTypes[live.kind],
      userId: live.userId,
      // Service sessions are named by their certificate CN; user sessions and API keys by email.
      username: live.kind === "userSession" || live.kind === "apiKey" ? live.email : (live.username ?? live.email),
      orgId: live.orgId,
      role: live.role,
      permissions: rolePermissions[live.role],
      sessionId: isSession ? live.sessionId : null,
      issuedAt: isSession && live.kind !== "userSession" ? live.createdAt : null,
      expiresAt: isSession ? live.expiresAt : null,
    };
  }
  const claims = await verifyAuthorizationToken(ctx, token);
  if (!claims) return undefined;
  const session = await resolveSession(ctx, claims.sid);
  if (!session || String(session.userId) !== claims.sub) return undefined;
  // The token's permissions, but never more than the role grants today.
  const granted = new Set<string>(rolePermissions[session.role]);
  return {
    tokenType: "authorization_token",
    userId: session.userId,
    username: session.username ?? session.email,
    orgId: claims.org,
    role: session.role,
    permissions: claims.permissions.filter((permission) => granted.has(permission)),
    sessionId: claims.sid,
    issuedAt: claims.iat * 1000,
    expiresAt: claims.exp * 1000,
  };
}
