import type { PasswordPolicy, SessionPolicy } from "@tessera/protocol";
import type { Kysely } from "kysely";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { StorageDialect } from "../storage/dialects/dialect.ts";
import { reusableQuery } from "../storage/reusable-query.ts";
import type { Database } from "../storage/schema.ts";

export const defaultPasswordPolicy: PasswordPolicy = {
  minLength: 12,
  maxAgeDays: 0,
  historyCount: 5,
  maxFailedAttempts: 5,
  lockoutMinutes: 15,
};

export const defaultSessionPolicy: SessionPolicy = {
  userIdleSeconds: 900,
  // Twelve hours: a working day, then a fresh login (ASVS 3.3.2).
  userAbsoluteSeconds: 43200,
  serviceSessionSeconds: 86400,
  renewGraceSeconds: 30,
};

/** Read by GET /user/users/me on every call: compiled once. */
const findPasswordPolicy = reusableQuery((db) =>
  db.selectFrom("password_policies").selectAll().where("org_id", "=", 0),
);

/** The org's stored password policy or the defaults, straight from `db` (a transaction may pass itself). */
export async function getPasswordPolicy(db: Kysely<Database>, orgId: number): Promise<PasswordPolicy> {
  const [row] = await findPasswordPolicy(db, [orgId]);
  if (!row) return defaultPasswordPolicy;
  return {
    minLength: row.min_length,
    maxAgeDays: row.max_age_days,
    historyCount: row.history_count,
    maxFailedAttempts: row.max_failed_attempts,
    lockoutMinutes: row.lockout_minutes,
  };
}

/**
 * `getPasswordPolicy` through the node's exact read cache (no transaction): the hot path, and
 * `GET /admin/orgs/{orgId}/password-policy`, since the cache drops the entry before any change
 * of the row can be read, whoever writes it.
 */
export async function readPasswordPolicy(storage: StorageDialect, orgId: number): Promise<PasswordPolicy> {
  const policy = await storage.cache.read(
    `password-policy:${orgId}`,
    () => getPasswordPolicy(storage.db, orgId),
    () => [`password_policies:${orgId}`],
  );
  return policy ?? defaultPasswordPolicy;
}

/** `getSessionPolicy` through the node's exact read cache (no transaction), as `readPasswordPolicy`. */
export async function readSessionPolicy(storage: StorageDialect, orgId: number): Promise<SessionPolicy> {
  const policy = await storage.cache.read(
    `session-policy:${orgId}`,
    () => getSessionPolicy(storage.db, orgId),
    () => [`session_policies:${orgId}`],
  );
  return policy ?? defaultSessionPolicy;
}

/** The org's stored session policy or the defaults, straight from `db` (a transaction may pass itself). */
export async function getSessionPolicy(db: Kysely<Database>, orgId: number): Promise<SessionPolicy> {
  const row = await db.selectFrom("session_policies").selectAll().where("org_id", "=", orgId).executeTakeFirst();
  if (!row) return defaultSessionPolicy;
  return {
    userIdleSeconds: row.user_idle_seconds,
    userAbsoluteSeconds: row.user_absolute_seconds,
    serviceSessionSeconds: row.service_session_seconds,
    renewGraceSeconds: row.renew_grace_seconds,
  };
}

export async function putPasswordPolicy(db: Kysely<Database>, orgId: number, policy: PasswordPolicy): Promise<void> {
  const row = {
    org_id: orgId,
    min_length: policy.minLength,
    max_age_days: policy.maxAgeDays,
    history_count: policy.historyCount,
    max_failed_attempts: policy.maxFailedAttempts,
    lockout_minutes: policy.lockoutMinutes,
  };
  await db
    .insertInto("password_policies")
    .values(row)
    .onConflict((conflict) => conflict.column("org_id").doUpdateSet(row))
    .execute();
}

export async function putSessionPolicy(db: Kysely<Database>, orgId: number, policy: SessionPolicy): Promise<void> {
  const row = {
    org_id: orgId,
    user_idle_seconds: policy.userIdleSeconds,
    user_absolute_seconds: policy.userAbsoluteSeconds,
    service_session_seconds: policy.serviceSessionSeconds,
    renew_grace_seconds: policy.renewGraceSeconds,
  };
  await db
    .insertInto("session_policies")
    .values(row)
    .onConflict((conflict) => conflict.column("org_id").doUpdateSet(row))
    .execute();
}

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

/** When the password stops being accepted under `policy`, or null if it never expires. */
export function passwordExpiresAt(policy: PasswordPolicy, passwordChangedAt: number | null): number | null {
  if (policy.maxAgeDays === 0 || passwordChangedAt === null) return null;
  return passwordChangedAt + policy.maxAgeDays * 86_400_000;
}
