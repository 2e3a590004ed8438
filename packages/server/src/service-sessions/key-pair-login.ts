import { createPublicKey } from "node:crypto";
import type { Role } from "@tessera/protocol";
import { decodeJwt, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { ServiceAccount } from "../sessions/open-session.ts";
import { checkAudience, type KeyPairLoginRequest, recordKeyPairTokenUse } from "./key-pair-token-use.ts";
import { auditServiceLoginRefusal } from "./login-refusals.ts";

/** A key-pair login token may be valid for at most five minutes ahead… */
const maxLifetimeSeconds = 300;
/** …give or take this much difference between the client's clock and ours. */
const clockToleranceSeconds = 30;

function refused(detail: string): TesseraError {
  return new TesseraError("invalid_key_pair_token", detail);
}

/**
 * Symphony's key-pair login: a JWT signed RS512 by one of the service user's registered RSA
 * keys, `sub` = username, `exp` at most five minutes ahead. Only keys registered by the service
 * user's home org count (an org vouches only for the accounts it owns), and the session opens
 * there. Unknown user and wrong key look the same. A verified token must name this server when
 * it has an `aud`, and opens one session of its kind only (key-pair-token-use.ts).
 */
export async function authenticateKeyPairToken(
  ctx: AppContext,
  token: string,
  ip: string,
  request: KeyPairLoginRequest,
): Promise<ServiceAccount> {
  let subject: string | undefined;
  let expiresAt: number | undefined;
  let claims: JWTPayload;
  try {
    if (decodeProtectedHeader(token).alg !== "RS512") throw refused("The token must be signed with RS512");
    claims = decodeJwt(token);
    subject = claims.sub;
    expiresAt = claims.exp;
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw refused("The token is not a JWT");
  }
  const username = subject;
  const attempt = () => ({ method: "key_pair" as const, username, orgIds: [], ip });
  return auditServiceLoginRefusal(ctx, attempt, async () => {
    const account = await verifyKeyPairToken(ctx, token, username, expiresAt);
    checkAudience(claims.aud, request.audiences);
    await recordKeyPairTokenUse(
      ctx,
      token,
      { sub: account.username, exp: expiresAt as number, jti: claims.jti },
      request.kind,
      clockToleranceSeconds,
    );
    return account;
  });
}

async function verifyKeyPairToken(
  ctx: AppContext,
  token: string,
  subject: string | undefined,
  expiresAt: number | undefined,
): Promise<ServiceAccount> {
  const nowSeconds = Math.floor(ctx.clock.now() / 1000);
  if (typeof subject !== "string" || subject === "")
    throw refused("The token has no sub (the service user's username)");
  if (typeof expiresAt !== "number") throw refused("The token has no exp");
  if (expiresAt > nowSeconds + maxLifetimeSeconds + clockToleranceSeconds) {
    throw refused(`The token's exp is more than ${maxLifetimeSeconds} seconds ahead`);
  }

  const keys = await ctx.db
    .selectFrom("service_rsa_keys as k")
    .innerJoin("users as u", "u.id", "k.user_id")
    .innerJoin("memberships as m", (join) =>
      join
        .onRef("m.user_id", "=", "k.user_id")
        .onRef("m.org_id", "=", "k.org_id")
        .onRef("m.org_id", "=", "u.home_org_id"),
    )
    .select(["k.public_key_pem", "u.id as user_id", "u.username", "m.id as membership_id", "m.org_id", "m.role"])
    .where("u.username", "=", subject)
    .where("u.kind", "=", "service")
    .where("u.active", "=", 1)
    .where("m.active", "=", 1)
    .orderBy("m.org_id")
    .orderBy("k.id")
    .execute();
  for (const key of keys) {
    try {
      await jwtVerify(token, createPublicKey(key.public_key_pem), {
        algorithms: ["RS512"],
        subject,
        currentDate: new Date(ctx.clock.now()),
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ["exp"],
      });
    } catch {
      continue;
    }
    return {
      userId: key.user_id,
      username: key.username ?? subject,
      orgId: key.org_id,
      membershipId: key.membership_id,
      role: key.role as Role,
    };
  }
  throw refused("The token is expired or not signed by a key registered for an active service user");
}
