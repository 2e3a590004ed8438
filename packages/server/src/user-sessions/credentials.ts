import type { PasswordPolicy, Role } from "@tessera/protocol";
import { type Kysely, sql } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { verifyDummyPassword, verifyPassword } from "../crypto/passwords.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { defaultPasswordPolicy, getPasswordPolicy } from "../policies/policies.ts";
import type { Database, User } from "../storage/schema.ts";

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

/** Lockout follows the selected org's policy; without one, the strictest of the user's orgs. */
async function lockoutPolicy(
  ctx: AppContext,
  activeOrgs: ActiveOrg[],
  selectedOrg: number | null | undefined,
): Promise<PasswordPolicy> {
  const selected = activeOrgs.find((org) => org.orgId === selectedOrg);
  if (selected) return getPasswordPolicy(ctx.db, selected.orgId);
  const policies = await Promise.all(activeOrgs.map((org) => getPasswordPolicy(ctx.db, org.orgId)));
  return policies.reduce(
    (strictest, policy) => (policy.maxFailedAttempts < strictest.maxFailedAttempts ? policy : strictest),
    policies[0] ?? defaultPasswordPolicy,
  );
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
    await failLogin(ctx, ctx.db, check, null, null, "unknown_user");
    throw new TesseraError("invalid_credentials");
  }

  const activeOrgs = await listActiveOrgs(ctx, user.id);
  const passwordMatches = await verifyPassword(user.password_hash, check.password);
  const now = ctx.clock.now();
  // Read again after the verification: guesses sent in parallel see a lockout that another set meanwhile.
  const { locked_until: lockedUntil } = await ctx.db
    .selectFrom("users")
    .select("locked_until")
    .where("id", "=", user.id)
    .executeTakeFirstOrThrow();

  if (lockedUntil !== null && now < lockedUntil) {
    // Said whatever the password was, so a locked account cannot be used to test guesses.
    await failLogin(ctx, ctx.db, check, user, activeOrgs, "locked");
    throw new TesseraError("account_locked", "Too many failed logins; try again later", {
      headers: { "retry-after": String(Math.ceil((lockedUntil - now) / 1000)) },
    });
  }

  if (!passwordMatches) {
    const policy = await lockoutPolicy(ctx, activeOrgs, check.selectedOrg);
    await ctx.db.transaction().execute(async (trx) => {
      // Counted in the database, not from the row read before the (slow) verification, so that
      // parallel guesses all count. A lockout that has run out starts the count again.
      const lapsed = sql<boolean>`locked_until is not null and locked_until <= ${now}`;
      const counted = await trx
        .updateTable("users")
        .set({
          failed_attempts: sql<number>`case when ${lapsed} then 1 else failed_attempts + 1 end`,
          locked_until: sql<number | null>`case when ${lapsed} then null else locked_until end`,
        })
        .where("id", "=", user.id)
        .returning(["failed_attempts", "locked_until"])
        .executeTakeFirstOrThrow();
      // A concurrent guess may have locked the account already: that lockout stands as it is.
      const locks = counted.locked_until === null && counted.failed_attempts >= policy.maxFailedAttempts;
      if (locks) {
        await trx
          .updateTable("users")
          .set({ failed_attempts: 0, locked_until: now + policy.lockoutMinutes * 60_000 })
          .where("id", "=", user.id)
          .execute();
        await recordAudit(trx, now, {
          type: "account.locked",
          orgId: activeOrgs[0]?.orgId ?? null,
          actorUserId: null,
          subjectUserId: user.id,
          data: { minutes: policy.lockoutMinutes },
          ip: check.ip,
        });
      }
      // In the transaction that counted it, so the event and the count commit together.
      await failLogin(ctx, trx, check, user, activeOrgs, "wrong_password");
    });
    throw new TesseraError("invalid_credentials");
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
