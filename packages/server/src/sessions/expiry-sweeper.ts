import { sql } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { TimerHandle } from "../clock.ts";
import type { AppContext } from "../context.ts";

/** "password.expiring" is recorded this long before the password expires. */
export const passwordWarningMs = 7 * 86_400_000;
/** Most expiries handled per kind in one sweep; the next sweep takes the rest. */
const sweepBatch = 200;
export const defaultSweepIntervalMs = 30_000;

/**
 * Records the audit events nothing else writes: "session.expired" for sessions whose window
 * closed, and "password.expiring" once per password within `passwordWarningMs` of its org's
 * maximum age. Each is claimed by a conditional update in the event's own transaction, so nodes
 * sweeping the same database together record it exactly once.
 */
export async function sweepExpiries(ctx: AppContext): Promise<{ sessions: number; passwords: number }> {
  const now = ctx.clock.now();
  let sessions = 0;
  const expired = await ctx.db
    .selectFrom("sessions")
    .select(["id", "org_id", "user_id", "kind"])
    .where("expiry_recorded", "=", 0)
    .where("revoked_at", "is", null)
    .where("expires_at", "<=", now)
    .orderBy("expires_at")
    .limit(sweepBatch)
    .execute();
  for (const session of expired) {
    const claimed = await ctx.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("sessions")
        .set({ expiry_recorded: 1 })
        .where("id", "=", session.id)
        .where("expiry_recorded", "=", 0)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await recordAudit(trx, now, {
        type: "session.expired",
        orgId: session.org_id,
        actorUserId: null,
        subjectUserId: session.user_id,
        data: { sessionId: session.id, kind: session.kind },
      });
      return true;
    });
    if (claimed) sessions++;
  }

  let passwords = 0;
  const expiring = await ctx.db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .innerJoin("password_policies as p", "p.org_id", "m.org_id")
    .select(["m.id as membership_id", "m.org_id", "u.id as user_id", "u.password_changed_at", "p.max_age_days"])
    .where("m.active", "=", 1)
    .where("u.active", "=", 1)
    .where("p.max_age_days", ">", 0)
    .where("u.password_changed_at", "is not", null)
    .where(
      sql<boolean>`u.password_changed_at + cast(p.max_age_days as bigint) * 86400000 <= cast(${now + passwordWarningMs} as bigint)`,
    )
    .where((eb) =>
      eb.or([
        eb("m.password_warning_for", "is", null),
        eb("m.password_warning_for", "<>", eb.ref("u.password_changed_at")),
      ]),
    )
    .limit(sweepBatch)
    .execute();
  for (const row of expiring) {
    const changedAt = Number(row.password_changed_at);
    const claimed = await ctx.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable("memberships")
        .set({ password_warning_for: changedAt })
        .where("id", "=", row.membership_id)
        .where((eb) => eb.or([eb("password_warning_for", "is", null), eb("password_warning_for", "<>", changedAt)]))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await recordAudit(trx, now, {
        type: "password.expiring",
        orgId: row.org_id,
        actorUserId: null,
        subjectUserId: row.user_id,
        data: { expiresAt: changedAt + Number(row.max_age_days) * 86_400_000 },
      });
      return true;
    });
    if (claimed) passwords++;
  }
  return { sessions, passwords };
}

/**
 * Sweeps `intervalMs` after the previous sweep ended, so sweeps never overlap, on `ctx.clock`'s
 * timers (which do not keep the process alive). Returns the function that stops it.
 */
export function startExpirySweeper(ctx: AppContext, intervalMs = defaultSweepIntervalMs): () => void {
  let stopped = false;
  let timer: TimerHandle | undefined;
  const scheduleSweep = () => {
    timer = ctx.clock.setTimeout(sweep, intervalMs, false);
  };
  // Returns its promise, so a test clock finishes the sweep before it moves time on.
  const sweep = async () => {
    try {
      await sweepExpiries(ctx);
    } catch {
      // The database may be away (503 elsewhere); the next sweep tries again.
    }
    if (!stopped) scheduleSweep();
  };
  scheduleSweep();
  return () => {
    stopped = true;
    if (timer) ctx.clock.clearTimeout(timer);
  };
}
