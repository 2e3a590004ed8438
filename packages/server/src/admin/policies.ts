import type { PasswordPolicy, SessionPolicy } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { getPasswordPolicy, getSessionPolicy, putPasswordPolicy, putSessionPolicy } from "../policies/policies.ts";

/** `PUT /admin/orgs/{orgId}/password-policy`: replaces the whole policy; applies from the next login or change. */
export async function replacePasswordPolicy(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  policy: PasswordPolicy,
  ip: string,
): Promise<PasswordPolicy> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const previous = await getPasswordPolicy(trx, orgId);
    await putPasswordPolicy(trx, orgId, policy);
    await recordAudit(trx, now, {
      type: "password_policy.updated",
      orgId,
      actorUserId: caller.userId,
      data: { from: previous, to: policy },
      ip,
    });
  });
  return policy;
}

/**
 * `PUT /admin/orgs/{orgId}/session-policy`: replaces the whole policy. New sessions and
 * renewals follow it; live sessions keep the windows they were given.
 */
export async function replaceSessionPolicy(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  policy: SessionPolicy,
  ip: string,
): Promise<SessionPolicy> {
  if (policy.userIdleSeconds > policy.userAbsoluteSeconds) {
    throw new TesseraError("invalid_session_policy", "userIdleSeconds must not exceed userAbsoluteSeconds");
  }
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const previous = await getSessionPolicy(trx, orgId);
    await putSessionPolicy(trx, orgId, policy);
    await recordAudit(trx, now, {
      type: "session_policy.updated",
      orgId,
      actorUserId: caller.userId,
      data: { from: previous, to: policy },
      ip,
    });
  });
  return policy;
}
