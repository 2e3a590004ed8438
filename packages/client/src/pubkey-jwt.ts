import { createPrivateKey, type KeyObject, sign } from "node:crypto";

/** Seconds ahead the JWT expires: under Symphony's five-minute limit, with room for clock skew. */
const lifetimeSeconds = 240;

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/**
 * The short-lived JWT of Symphony's key-pair login (`POST /login/pubkey/authenticate`):
 * RS512, `sub` = the service user's username, `exp` four minutes ahead. Signed with
 * node:crypto; the private key never leaves the process. Tessera accepts each token once per
 * kind of session: without a `jti`, two tokens made in the same second are the same token, so
 * pass one (any unique string) when logging in more often than that.
 *
 * @example
 * ```ts
 * const token = createPubkeyJwt("billing-bot", readFileSync("bot-key.pem", "utf8"), Date.now());
 * await fetch(`${podUrl}/login/pubkey/authenticate`, { method: "POST", body: JSON.stringify({ token }) });
 * ```
 */
export function createPubkeyJwt(
  username: string,
  privateKey: string | KeyObject,
  nowMs: number,
  options: { jti?: string } = {},
): string {
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  if (key.asymmetricKeyType !== "rsa") throw new TypeError("Key-pair login needs an RSA private key");
  const issuedAt = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: "RS512", typ: "JWT" }));
  const claims = { sub: username, iat: issuedAt, exp: issuedAt + lifetimeSeconds };
  const payload = base64url(JSON.stringify(options.jti === undefined ? claims : { ...claims, jti: options.jti }));
  const signature = sign("sha512", Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${base64url(signature)}`;
}
