import type { SessionTokenResponse } from "@tessera/protocol";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import { generateToken, hashToken, looksLikeToken } from "../crypto/tokens.ts";
import { openUserSession } from "../sessions/open-session.ts";
import { listActiveOrgs } from "../user-sessions/credentials.ts";
import { SsoRefusal } from "./sso-error.ts";

/** Long enough for a browser redirect and one exchange; the code works once. */
export const handoverLifetimeMs = 60_000;

/**
 * Records a verified sign-on and returns the single-use code that goes on the return URL. The
 * session itself is created only at the exchange, so a URL (history, logs, Referer) never
 * carries a session token, and nothing but a hash of the code is stored.
 */
export async function createHandover(
  ctx: AppContext,
  orgId: number,
  userId: number,
  challenge: string | null,
): Promise<string> {
  const code = generateToken("ssoHandover");
  const now = ctx.clock.now();
  await ctx.db
    .insertInto("sso_handovers")
    .values({
      code_hash: hashToken(code),
      org_id: orgId,
      user_id: userId,
      challenge,
      created_at: now,
      expires_at: now + handoverLifetimeMs,
      consumed_at: null,
    })
    .execute();
  return code;
}

/** `POST /sso/token`: exchanges a handover code, once, for a user session (same shape as a password login). */
export async function exchangeHandover(
  ctx: AppContext,
  code: string,
  verifier: string | undefined,
  ip: string,
): Promise<SessionTokenResponse> {
  try {
    return await redeemHandover(ctx, code, verifier, ip);
  } catch (error) {
    if (error instanceof SsoRefusal) {
      await recordAudit(ctx.db, ctx.clock.now(), {
        type: "sso.login.failed",
        orgId: error.orgId ?? null,
        actorUserId: null,
        data: { code: error.code, reason: error.reason },
        ip,
      });
    }
    throw error;
  }
}

async function redeemHandover(
  ctx: AppContext,
  code: string,
  verifier: string | undefined,
  ip: string,
): Promise<SessionTokenResponse> {
  const now = ctx.clock.now();
  if (!looksLikeToken(code, "ssoHandover")) throw new SsoRefusal("sso_code_invalid", "handover_unknown");
  const handover = await ctx.db
    .updateTable("sso_handovers")
    .set({ consumed_at: now })
    .where("code_hash", "=", hashToken(code))
    .where("consumed_at", "is", null)
    .where("expires_at", ">", now)
    .returning(["org_id", "user_id", "challenge"])
    .executeTakeFirst();
  if (!handover) throw new SsoRefusal("sso_code_invalid", "handover_unknown_used_or_expired");
  // Consumed either way: a code shown with a wrong verifier was taken by someone else.
  if (handover.challenge !== null) {
    // S256 (RFC 7636) is BASE64URL(SHA-256(verifier)): what hashToken computes.
    const shown = verifier === undefined ? "" : hashToken(verifier);
    if (!constantTimeEqual(shown, handover.challenge)) {
      throw new SsoRefusal("sso_code_invalid", "handover_verifier_mismatch", undefined, handover.org_id);
    }
  }
  // Re-checked here: a deactivation between the callback and the exchange still wins.
  const user = await ctx.db.selectFrom("users").select("active").where("id", "=", handover.user_id).executeTakeFirst();
  if (user?.active !== 1) throw new SsoRefusal("account_disabled", "user_deactivated", undefined, handover.org_id);
  const org = (await listActiveOrgs(ctx, handover.user_id)).find((active) => active.orgId === handover.org_id);
  if (!org) throw new SsoRefusal("org_access_denied", "membership_deactivated", undefined, handover.org_id);
  return openUserSession(ctx, handover.user_id, org, { ip, method: "sso" });
}
