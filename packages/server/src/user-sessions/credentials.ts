import type { PasswordPolicy, Role } from "@tessera/protocol";
import type { Kysely } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { verifyDummyPassword, verifyPassword } from "../crypto/passwords.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { capLockout, getAccountPasswordPolicy } from "../policies/account-policy.ts";
import { defaultPasswordPolicy } from "../policies/policies.ts";
import type { Database, User } from "../storage/schema.ts";
import {
  accountCounter,
  accountLocked,
  countFailure,
  type FailureCounter,
  unknownEmailCounter,
} from "./failure-counters.ts";

export interface ActiveOrg {
  orgId: number;
  orgName: string;
  membershipId: number;
  role: Role;
}

/** The orgs in which the user's membership is active, oldest membership first. */
export async function listActiveOrgs(ctx: AppContext, userId: number): Promise<ActiveOrg[]> {
  return ctx.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select(["o.id as orgId", "o.name as orgName", "m.id as membershipId", "m.role"])
    .where("m.user_id", "=", userId)
    .where("m.active", "=", 1)
    .orderBy("m.id")
    .execute();
}

/**
 * Picks the org a login or password change is for (contract §3, §7): `selectedOrg` when given,
 * else the only active org; several orgs without `selectedOrg` is 400 listing their ids.
 */
export function chooseOrg(activeOrgs: ActiveOrg[], selectedOrg: number | null | undefined): ActiveOrg {
  if (activeOrgs.length === 0) throw new TesseraError("no_active_org");
  if (selectedOrg === undefined || selectedOrg === null) {
    const [only, ...others] = activeOrgs;
    if (only && others.length === 0) return only;
    throw new TesseraError("selected_org_required", "Send selectedOrg: one of orgIds", {
      extensions: { orgIds: activeOrgs.map((org) => org.orgId) },
    });
  }
  const chosen = activeOrgs.find((org) => org.orgId === selectedOrg);
  if (!chosen) throw new TesseraError("org_access_denied", `The user is not an active member of org ${selectedOrg}`);
  return chosen;
}

export interface CredentialCheck {
  email: string;
  password: string;
  selectedOrg?: number | null | undefined;
  ip: string;
}

/**
 * Verifies email and password for a person, with per-address throttling, per-account lockout
 * and a dummy verification for unknown emails (same time, same answer as a wrong password).
 * Returns the user and their active orgs; throws the registry's login errors.
 */
export async function checkPassword(
  ctx: AppContext,
  check: CredentialCheck,
): Promise<{ user: User; activeOrgs: ActiveOrg[] }> {
  const retryAfter = ctx.loginThrottle.retryAfterSeconds(check.ip);
  if (retryAfter > 0) {
    ctx.metrics.logins.inc({ outcome: "throttled" });
    throw new TesseraError("too_many_requests", "Too many failed logins from this address", {
      headers: { "retry-after": String(retryAfter) },
    });
  }
  const email = check.email.toLowerCase();
  const user = await ctx.db
    .selectFrom("users")
    .selectAll()
    .where("email", "=", email)
    .where("kind", "=", "person")
    .executeTakeFirst();

  if (!user?.password_hash) {
    await verifyDummyPassword(check.password);
    // Counted like an account under the default policy, so that neither the answers nor a lockout tell it apart.
    const policy = capLockout(defaultPasswordPolicy, ctx.config.maxLockoutMinutes);
    return refuseAfterVerification(ctx, check, unknownEmailCounter(ctx.emailKey, email), policy, null, null);
  }

  const activeOrgs = await listActiveOrgs(ctx, user.id);
  const passwordMatches = await verifyPassword(user.password_hash, check.password);
  if (!passwordMatches) {
    const policy = await getAccountPasswordPolicy(ctx.db, user.id, ctx.config.maxLockoutMinutes);
    return refuseAfterVerification(ctx, check, accountCounter(user.id), policy, user, activeOrgs);
  }
  // Read again after the verification: guesses sent in parallel see a lockout that another set meanwhile.
  const now = ctx.clock.now();
  const lockedUntil = await accountCounter(user.id).lockedUntil(ctx.db);
  if (lockedUntil !== null && now < lockedUntil) {
    await failLogin(ctx, ctx.db, check, user, activeOrgs, "locked");
    throw accountLocked(lockedUntil, now);
  }

  // Conditional in the database, where concurrent failures are counted.
  await ctx.db
    .updateTable("users")
    .set({ failed_attempts: 0, locked_until: null })
    .where("id", "=", user.id)
    .where((eb) => eb.or([eb("failed_attempts", "!=", 0), eb("locked_until", "is not", null)]))
    .execute();
  if (user.active !== 1) {
    await failLogin(ctx, ctx.db, check, user, activeOrgs, "account_disabled", "account_disabled");
    throw new TesseraError("account_disabled");
  }
  return { user, activeOrgs };
}

/**
 * A wrong password, or any password for an email without a password account: `account_locked`
 * while a lockout runs, else the failure is counted under `policy` (and may start a lockout) and
 * the answer is `invalid_credentials`.
 */
async function refuseAfterVerification(
  ctx: AppContext,
  check: CredentialCheck,
  counter: FailureCounter,
  policy: PasswordPolicy,
  user: User | null,
  activeOrgs: ActiveOrg[] | null,
): Promise<never> {
  const now = ctx.clock.now();
  const reason = user ? "wrong_password" : "unknown_user";
  const lockedUntil = await counter.lockedUntil(ctx.db);
  if (lockedUntil !== null && now < lockedUntil) {
    await failLogin(ctx, ctx.db, check, user, activeOrgs, user ? "locked" : reason, "account_locked");
    throw accountLocked(lockedUntil, now);
  }
  await ctx.db.transaction().execute(async (trx) => {
    const locked = await countFailure(trx, counter, policy, now);
    if (locked !== null && user) {
      await recordAudit(trx, now, {
        type: "account.locked",
        orgId: activeOrgs?.[0]?.orgId ?? null,
        actorUserId: null,
        subjectUserId: user.id,
        data: { minutes: policy.lockoutMinutes },
        ip: check.ip,
      });
    }
    // In the transaction that counted it, so the event and the count commit together.
    await failLogin(ctx, trx, check, user, activeOrgs, reason);
  });
  throw new TesseraError("invalid_credentials");
}

async function failLogin(
  ctx: AppContext,
  db: Kysely<Database>,
  check: CredentialCheck,
  user: User | null,
  activeOrgs: ActiveOrg[] | null,
  reason: string,
  outcome: "invalid_credentials" | "account_locked" | "account_disabled" = reason === "locked"
    ? "account_locked"
    : "invalid_credentials",
): Promise<void> {
  ctx.loginThrottle.recordFailure(check.ip);
  ctx.metrics.logins.inc({ outcome });
  const orgId = activeOrgs?.find((org) => org.orgId === check.selectedOrg)?.orgId ?? activeOrgs?.[0]?.orgId ?? null;
  await recordAudit(db, ctx.clock.now(), {
    type: "login.failed",
    orgId,
    actorUserId: null,
    subjectUserId: user?.id ?? null,
    data: { reason, email: check.email.toLowerCase() },
    ip: check.ip,
  });
}
