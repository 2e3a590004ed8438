import { createHash, createHmac, randomBytes } from "node:crypto";
import { type TokenKind, tokenPrefixes } from "@tessera/protocol";

/** A new opaque token: a readable prefix and 256 bits from the CSPRNG. */
export function generateToken(kind: TokenKind): string {
  return tokenPrefixes[kind] + randomBytes(32).toString("base64url");
}

/** Only this hash is ever stored; a leaked database yields no usable token. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * The token that succeeds `token` on renewal. Deriving it (rather than drawing a random
 * one) lets every concurrent renewal inside the grace window answer with the same new token
 * without ever storing a token: only a holder of the old token and the server key can compute it.
 */
export function deriveSuccessorToken(renewalKey: Buffer, token: string): string {
  const prefix = token.slice(0, token.indexOf("_") + 1);
  return prefix + createHmac("sha256", renewalKey).update(token).digest("base64url");
}

/** Tokens Tessera issued have a known prefix and 43 base64url characters. */
export function looksLikeToken(value: string, kind: TokenKind): boolean {
  const prefix = tokenPrefixes[kind];
  return (
    value.length === prefix.length + 43 &&
    value.startsWith(prefix) &&
    /^[A-Za-z0-9_-]+$/.test(value.slice(prefix.length))
  );
}
