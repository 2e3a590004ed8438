import { randomBytes } from "node:crypto";
import type { AppContext } from "../context.ts";
import { hashToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { SsoLoginAttempt } from "../storage/schema.ts";
import { SsoRefusal } from "./sso-error.ts";

/** How long a sign-on may take at the provider before its state is refused. */
export const attemptLifetimeMs = 10 * 60_000;

/** Sign-on starts one address may make per minute: far above a person's, far below a flood's. */
export const ssoStartsPerAddressPerMinute = 30;
/** Unfinished, unexpired sign-ons an org may have at once, whatever the addresses that started them. */
const maxPendingAttemptsPerOrg = 1000;

/**
 * Admits one more sign-on start from `ip` (each stores an attempt, without any credential):
 * 429 `too_many_requests` with Retry-After past the per-address limit.
 */
export function admitSsoStart(ctx: AppContext, ip: string): void {
  ctx.ssoStartThrottle.assertMayTry(ip, "Too many sign-ons started from this address");
  ctx.ssoStartThrottle.recordFailure(ip);
}

function randomValue(): string {
  return randomBytes(32).toString("base64url");
}

export interface NewAttempt {
  state: string;
  nonce: string;
  codeChallenge: string;
  /** Goes in a cookie of the browser that starts the sign-on; the callback must bring it back. */
  browserBinding: string;
}

/** The cookie that binds an attempt to its browser, named after the state so parallel sign-ons coexist. */
export function bindingCookieName(state: string): string {
  return `tessera_sso_${hashToken(state)
    .slice(0, 16)
    .replace(/[^A-Za-z0-9]/g, "x")}`;
}

/** Stores a new attempt (state, nonce, PKCE verifier) in the database, so any node can finish it. */
export async function createAttempt(
  ctx: AppContext,
  orgId: number,
  redirectUri: string,
  returnTo: string | undefined,
  handoverChallenge: string | undefined,
): Promise<NewAttempt> {
  const now = ctx.clock.now();
  const attempt = { state: randomValue(), nonce: randomValue(), browserBinding: randomValue() };
  const codeVerifier = randomValue();
  // Attempts and handovers are useless once expired; clearing them here keeps both tables small.
  await ctx.db
    .deleteFrom("sso_login_attempts")
    .where("created_at", "<", now - 6 * attemptLifetimeMs)
    .execute();
  await ctx.db
    .deleteFrom("sso_handovers")
    .where("expires_at", "<", now - attemptLifetimeMs)
    .execute();
  const pending = await ctx.db
    .selectFrom("sso_login_attempts")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("org_id", "=", orgId)
    .where("consumed_at", "is", null)
    .where("created_at", ">", now - attemptLifetimeMs)
    .executeTakeFirstOrThrow();
  if (Number(pending.count) >= maxPendingAttemptsPerOrg) {
    throw new TesseraError("too_many_requests", "Too many sign-ons are in progress for this organisation", {
      headers: { "retry-after": "60" },
    });
  }
  await ctx.db
    .insertInto("sso_login_attempts")
    .values({
      state_hash: hashToken(attempt.state),
      browser_binding_hash: hashToken(attempt.browserBinding),
      org_id: orgId,
      nonce: attempt.nonce,
      code_verifier: codeVerifier,
      redirect_uri: redirectUri,
      return_to: returnTo ?? null,
      handover_challenge: handoverChallenge ?? null,
      created_at: now,
      consumed_at: null,
    })
    .execute();
  // S256 (RFC 7636) is BASE64URL(SHA-256(verifier)): what hashToken computes.
  const codeChallenge = hashToken(codeVerifier);
  return { ...attempt, codeChallenge };
}

/**
 * Consumes the attempt named by `state`, exactly once (a conditional update, so two nodes racing
 * on one callback cannot both win), and only for the browser that started it: a callback that
 * brings the state without its binding cookie leaves the attempt for the real browser.
 */
export async function consumeAttempt(
  ctx: AppContext,
  state: string | undefined,
  browserBinding: string | undefined,
): Promise<SsoLoginAttempt> {
  if (!state) throw new SsoRefusal("sso_state_invalid", "state_missing");
  const now = ctx.clock.now();
  const stateHash = hashToken(state);
  // Compared as hashes in the update itself: the check and the consumption are one step.
  const attempt = browserBinding
    ? await ctx.db
        .updateTable("sso_login_attempts")
        .set({ consumed_at: now })
        .where("state_hash", "=", stateHash)
        .where("browser_binding_hash", "=", hashToken(browserBinding))
        .where("consumed_at", "is", null)
        .where("created_at", ">", now - attemptLifetimeMs)
        .returningAll()
        .executeTakeFirst()
    : undefined;
  if (!attempt) {
    const known = await ctx.db
      .selectFrom("sso_login_attempts")
      .select(["org_id", "consumed_at", "created_at"])
      .where("state_hash", "=", stateHash)
      .executeTakeFirst();
    const reason = !known
      ? "state_unknown"
      : known.consumed_at !== null
        ? "state_replayed"
        : known.created_at <= now - attemptLifetimeMs
          ? "state_expired"
          : "browser_mismatch";
    throw new SsoRefusal("sso_state_invalid", reason, undefined, known?.org_id);
  }
  return attempt;
}
