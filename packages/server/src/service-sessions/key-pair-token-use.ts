import { createHash } from "node:crypto";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/** Which session a key-pair login opens: `/login/pubkey` a service session, `/relay/pubkey` a key-manager one. */
export type KeyPairSessionKind = "session" | "key_manager";

/** What a key-pair login must know of its request to judge `aud` and single use. */
export interface KeyPairLoginRequest {
  kind: KeyPairSessionKind;
  /** The URLs `aud` may name: the configured ones, else the origin the request was sent to. */
  audiences: readonly string[];
}

/** The audiences a token sent to `requestOrigin` may name: TESSERA_PUBLIC_URL and TESSERA_KEY_PAIR_AUDIENCES, else that origin. */
export function acceptedAudiences(ctx: AppContext, requestOrigin: string): string[] {
  const configured = [...(ctx.config.publicUrl ? [ctx.config.publicUrl] : []), ...ctx.config.keyPairAudiences];
  return configured.length > 0 ? configured : [normaliseAudience(requestOrigin)];
}

/** A URL compares by its parsed form without trailing slashes; anything else as written. */
function normaliseAudience(value: string): string {
  try {
    return new URL(value).href.replace(/\/+$/, "");
  } catch {
    return value;
  }
}

/**
 * 401 unless `aud` is absent or names one of `accepted` (RFC 7519 §4.1.3: a recipient that does
 * not identify itself with a value of `aud` must reject the token). Symphony's clients send none.
 */
export function checkAudience(aud: unknown, accepted: readonly string[]): void {
  if (aud === undefined) return;
  const named = typeof aud === "string" ? [aud] : aud;
  if (!Array.isArray(named) || !named.every((value) => typeof value === "string")) {
    throw new TesseraError("invalid_key_pair_token", "The token's aud must be a string or an array of strings");
  }
  if (!named.some((value) => accepted.includes(normaliseAudience(value)))) {
    throw new TesseraError(
      "key_pair_token_audience_mismatch",
      `The token's aud does not name this server (accepted: ${accepted.join(", ")})`,
    );
  }
}

/** Clocks of the nodes sharing a database may differ a little: a used token is remembered this much longer. */
const pruneMarginMs = 60_000;
/** Expired uses are deleted at most this often per node. */
const pruneIntervalMs = 60_000;
const lastPruneByContext = new WeakMap<AppContext, number>();

/**
 * Records the use of a verified token for one kind of session, in the database so that every node
 * sees it; 401 key_pair_token_replayed when it was already used for that kind. The key is the
 * token's `jti` (scoped by `sub`), or, without one, its signed part (header and claims): a
 * re-encoded signature does not make it new. Symphony's clients sign `{sub, exp}` with a
 * deterministic RS512 signature, so the token they send to the pod and to the key manager within
 * one second is the same: each kind of session keeps its own record.
 */
export async function recordKeyPairTokenUse(
  ctx: AppContext,
  token: string,
  claims: { sub: string; exp: number; jti: unknown },
  kind: KeyPairSessionKind,
  clockToleranceSeconds: number,
): Promise<void> {
  const now = ctx.clock.now();
  if (now - (lastPruneByContext.get(ctx) ?? Number.NEGATIVE_INFINITY) >= pruneIntervalMs) {
    lastPruneByContext.set(ctx, now);
    await ctx.db
      .deleteFrom("key_pair_token_uses")
      .where("expires_at", "<", now - pruneMarginMs)
      .execute();
  }
  const identity =
    typeof claims.jti === "string" && claims.jti !== ""
      ? `jti\0${claims.sub}\0${claims.jti}`
      : `jws\0${token.slice(0, token.lastIndexOf("."))}`;
  const inserted = await ctx.db
    .insertInto("key_pair_token_uses")
    .values({
      token_hash: createHash("sha256").update(`${kind}\0${identity}`).digest("hex"),
      expires_at: (claims.exp + clockToleranceSeconds) * 1000,
    })
    .onConflict((conflict) => conflict.column("token_hash").doNothing())
    .returning("token_hash")
    .executeTakeFirst();
  if (!inserted) {
    throw new TesseraError(
      "key_pair_token_replayed",
      "This token was already used to log in; sign a new one (a new exp or jti) for each login",
    );
  }
}
