import { randomBytes } from "node:crypto";
import { decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import type { AppContext } from "../context.ts";
import { currentSigningKey, maxAuthorizationTokenMs, publishedKey, signingAlgorithm } from "./signing-keys.ts";

export interface AuthorizationTokenSubject {
  userId: number;
  orgId: number;
  sessionId: number;
  permissions: readonly string[];
  /** Unix ms: the token never outlives its session. */
  sessionExpiresAt: number;
  scope?: string;
}

export interface IssuedAuthorizationToken {
  token: string;
  expiresIn: number;
}

export interface AuthorizationTokenClaims extends JWTPayload {
  sub: string;
  org: number;
  sid: number;
  permissions: string[];
  iat: number;
  exp: number;
  jti: string;
}

/** A JWT (ES256, kid in the header) for resource servers: at most five minutes, never past its session. */
export async function issueAuthorizationToken(
  ctx: AppContext,
  subject: AuthorizationTokenSubject,
): Promise<IssuedAuthorizationToken> {
  const now = ctx.clock.now();
  const { kid, key } = await currentSigningKey(ctx.db, now);
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = Math.max(
    issuedAt,
    Math.floor(Math.min(now + maxAuthorizationTokenMs, subject.sessionExpiresAt) / 1000),
  );
  const claims: Record<string, unknown> = {
    org: subject.orgId,
    sid: subject.sessionId,
    permissions: [...subject.permissions],
  };
  if (subject.scope !== undefined) claims.scope = subject.scope;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: signingAlgorithm, kid, typ: "at+jwt" })
    .setIssuer(ctx.config.issuer)
    .setSubject(String(subject.userId))
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomBytes(16).toString("base64url"))
    .sign(key);
  return { token, expiresIn: expiresAt - issuedAt };
}

/** True when the value has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

/**
 * Verifies signature (against a published key), issuer and expiry at the injected clock.
 * Returns undefined for any token that is not a live authorization token of this server.
 */
export async function verifyAuthorizationToken(
  ctx: AppContext,
  token: string,
): Promise<AuthorizationTokenClaims | undefined> {
  if (!looksLikeJwt(token)) return undefined;
  try {
    const { kid, alg } = decodeProtectedHeader(token);
    if (typeof kid !== "string" || alg !== signingAlgorithm) return undefined;
    const now = ctx.clock.now();
    const key = await publishedKey(ctx.db, kid, now);
    if (!key) return undefined;
    const { payload } = await jwtVerify(token, key, {
      algorithms: [signingAlgorithm],
      issuer: ctx.config.issuer,
      currentDate: new Date(now),
      requiredClaims: ["sub", "iat", "exp", "jti"],
    });
    if (typeof payload.org !== "number" || typeof payload.sid !== "number" || !Array.isArray(payload.permissions)) {
      return undefined;
    }
    return payload as AuthorizationTokenClaims;
  } catch {
    return undefined;
  }
}
