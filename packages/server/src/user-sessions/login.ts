import type { LoginRequest, SessionTokenResponse } from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { getAccountPasswordPolicy } from "../policies/account-policy.ts";
import { passwordExpiresAt } from "../policies/policies.ts";
import { openUserSession } from "../sessions/open-session.ts";
import { checkPassword, chooseOrg } from "./credentials.ts";

/** `POST /user/authenticate`: email, password and org in; a 15-minute session token out. */
export async function loginWithPassword(
  ctx: AppContext,
  input: LoginRequest,
  ip: string,
): Promise<SessionTokenResponse> {
  const { user, activeOrgs } = await checkPassword(ctx, { ...input, ip });
  let org: ReturnType<typeof chooseOrg>;
  try {
    org = chooseOrg(activeOrgs, input.selectedOrg);
  } catch (error) {
    if (error instanceof TesseraError) ctx.metrics.logins.inc({ outcome: error.code as "no_active_org" });
    throw error;
  }
  // The account's maximum age (the shortest of its orgs'), whichever org the login names.
  const policy = await getAccountPasswordPolicy(ctx.db, user.id, ctx.config.maxLockoutMinutes);
  const expiresAt = passwordExpiresAt(policy, user.password_changed_at);
  if (user.must_change_password === 1 || (expiresAt !== null && ctx.clock.now() >= expiresAt)) {
    ctx.metrics.logins.inc({ outcome: "password_expired" });
    throw new TesseraError("password_expired", "Change the password with POST /user/password, then log in again");
  }
  ctx.metrics.logins.inc({ outcome: "success" });
  return openUserSession(ctx, user.id, org, { ip, method: "password" });
}
