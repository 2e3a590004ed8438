import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

export interface ServiceLoginAttempt {
  method: "certificate" | "key_pair";
  /** The certificate's CN or the key-pair token's sub, when the request named one. */
  username: string | undefined;
  /** Orgs the attempt can be attributed to (those trusting the certificate's CA); empty: find by username. */
  orgIds: readonly number[];
  ip: string;
}

/**
 * Refusals of one address audited one by one within a throttle window. Past them, the window's
 * further refusals are summed up in one event, written when the address reaches the throttle,
 * so that garbage from one address cannot flood the audit log and the datafeeds.
 */
const refusalsAuditedPerWindow = 10;

/**
 * Runs a service login and, when it is refused, writes `login.failed` (contract §3: failed logins
 * are security events, and datafeeds carry them) to every org the attempt names: the orgs that
 * trust the certificate, or the home org of the service user of that name. An attempt that
 * names no org is recorded without one, as unknown emails are for password logins.
 */
export async function auditServiceLoginRefusal<T>(
  ctx: AppContext,
  attempt: () => ServiceLoginAttempt,
  login: () => Promise<T>,
): Promise<T> {
  // Refused logins share the per-address throttle of password logins.
  const { ip } = attempt();
  ctx.loginThrottle.assertMayTry(ip, "Too many failed logins from this address");
  try {
    return await login();
  } catch (error) {
    if (error instanceof TesseraError && error.status < 500) {
      const failures = ctx.loginThrottle.recordFailure(ip);
      if (failures <= refusalsAuditedPerWindow) await recordRefusal(ctx, attempt(), error.code);
      else if (failures === ctx.loginThrottle.maxFailures) {
        await recordRefusal(ctx, attempt(), "too_many_failures", { failures: failures - refusalsAuditedPerWindow });
      }
    }
    throw error;
  }
}

async function recordRefusal(
  ctx: AppContext,
  attempt: ServiceLoginAttempt,
  reason: string,
  extra: Record<string, number> = {},
): Promise<void> {
  const holders =
    attempt.username === undefined
      ? []
      : await ctx.db
          .selectFrom("users as u")
          .select(["u.id as user_id", "u.home_org_id as org_id"])
          .where("u.username", "=", attempt.username)
          .where("u.kind", "=", "service")
          .execute();
  const orgIds = attempt.orgIds.length > 0 ? attempt.orgIds : [...new Set(holders.map((holder) => holder.org_id))];
  const now = ctx.clock.now();
  const data = { reason, method: attempt.method, username: attempt.username ?? null, ...extra };
  await ctx.db.transaction().execute(async (trx) => {
    for (const orgId of orgIds.length > 0 ? orgIds : [null]) {
      await recordAudit(trx, now, {
        type: "login.failed",
        orgId,
        actorUserId: null,
        subjectUserId: holders.find((holder) => holder.org_id === orgId)?.user_id ?? null,
        data,
        ip: attempt.ip,
      });
    }
  });
}
