import type { PasswordPolicy } from "@tessera/protocol";
import type { Kysely } from "kysely";
import type { Database } from "../storage/schema.ts";
import { selectActiveMemberships } from "../users/active-memberships.ts";
import { defaultPasswordPolicy } from "./policies.ts";

/**
 * The password and lockout rules of an account: the strictest of its orgs' policies (see
 * `strictestPasswordPolicy`), so that no org can loosen what another demands of a shared
 * account; the default policy without any active membership. The lockout is capped at
 * `maxLockoutMinutes` (an operator setting), so that no org can lock an account out for long.
 */
export async function getAccountPasswordPolicy(
  db: Kysely<Database>,
  userId: number,
  maxLockoutMinutes: number,
): Promise<PasswordPolicy> {
  const rows = await selectActiveMemberships(db)
    .where("m.user_id", "=", userId)
    .leftJoin("password_policies as p", "p.org_id", "m.org_id")
    .select(["p.min_length", "p.max_age_days", "p.history_count", "p.max_failed_attempts", "p.lockout_minutes"])
    .execute();
  const policies = rows.map((row): PasswordPolicy => {
    // An org without a stored policy has the default one.
    if (row.min_length === null) return defaultPasswordPolicy;
    return {
      minLength: row.min_length,
      maxAgeDays: row.max_age_days ?? defaultPasswordPolicy.maxAgeDays,
      historyCount: row.history_count ?? defaultPasswordPolicy.historyCount,
      maxFailedAttempts: row.max_failed_attempts ?? defaultPasswordPolicy.maxFailedAttempts,
      lockoutMinutes: row.lockout_minutes ?? defaultPasswordPolicy.lockoutMinutes,
    };
  });
  return capLockout(strictestPasswordPolicy(policies), maxLockoutMinutes);
}

/**
 * Each rule at its strictest across `policies`: fewest failed attempts, longest lockout, longest
 * minimum length, largest history, shortest non-zero maximum age (0 means "never expires").
 */
export function strictestPasswordPolicy(policies: readonly PasswordPolicy[]): PasswordPolicy {
  const [first, ...rest] = policies;
  if (!first) return defaultPasswordPolicy;
  return rest.reduce(
    (strictest, policy) => ({
      minLength: Math.max(strictest.minLength, policy.minLength),
      maxAgeDays: shortestMaxAge(strictest.maxAgeDays, policy.maxAgeDays),
      historyCount: Math.max(strictest.historyCount, policy.historyCount),
      maxFailedAttempts: Math.min(strictest.maxFailedAttempts, policy.maxFailedAttempts),
      lockoutMinutes: Math.max(strictest.lockoutMinutes, policy.lockoutMinutes),
    }),
    first,
  );
}

function shortestMaxAge(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/** `policy` with its lockout shortened to the operator's cap. */
export function capLockout(policy: PasswordPolicy, maxLockoutMinutes: number): PasswordPolicy {
  return { ...policy, lockoutMinutes: Math.min(policy.lockoutMinutes, maxLockoutMinutes) };
}
