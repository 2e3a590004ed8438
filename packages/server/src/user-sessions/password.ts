import type { ChangePasswordRequest, PasswordPolicy } from "@tessera/protocol";
import type { Kysely } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { hashPassword, verifyPassword } from "../crypto/passwords.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { getAccountPasswordPolicy } from "../policies/account-policy.ts";
import { revokeSessions } from "../sessions/revoke-sessions.ts";
import type { Database } from "../storage/schema.ts";
import { checkPassword, chooseOrg } from "./credentials.ts";
import { assertPasswordRules } from "./password-rules.ts";

/**
 * Checks `password` against `policy` for a user: length, the rules of every password (see
 * assertPasswordRules), and reuse of the current password or of the last `historyCount` ones.
 * Throws the matching 400.
 */
export async function assertPasswordAllowed(
  db: Kysely<Database>,
  policy: PasswordPolicy,
  userId: number | null,
  password: string,
): Promise<void> {
  assertPasswordRules(password, policy.minLength);
  if (userId === null) return;
  const recent = await db
    .selectFrom("password_history")
    .select("password_hash")
    .where("user_id", "=", userId)
    .orderBy("id", "desc")
    .limit(Math.max(1, policy.historyCount))
    .execute();
  for (const entry of recent) {
    if (await verifyPassword(entry.password_hash, password)) {
      throw new TesseraError(
        "password_policy_violation",
        `The password must differ from the last ${Math.max(1, policy.historyCount)} passwords`,
      );
    }
  }
}

/** Sets a new password and records it in the history, inside the caller's transaction. */
export async function storePassword(
  db: Kysely<Database>,
  userId: number,
  passwordHash: string,
  now: number,
): Promise<void> {
  await db
    .updateTable("users")
    .set({ password_hash: passwordHash, password_changed_at: now, must_change_password: 0 })
    .where("id", "=", userId)
    .execute();
  await db
    .insertInto("password_history")
    .values({ user_id: userId, password_hash: passwordHash, created_at: now })
    .execute();
}

/**
 * `POST /user/password`: works with an expired password; enforces the strictest policy of the
 * account's active orgs. The
 * change is made with email and password, not a session, so it ends every session of the account
 * in every org, in the same transaction: whoever knew the old password is signed out.
 */
export async function changePassword(ctx: AppContext, input: ChangePasswordRequest, ip: string): Promise<void> {
  const { user, activeOrgs } = await checkPassword(ctx, {
    email: input.email,
    password: input.currentPassword,
    selectedOrg: input.selectedOrg,
    ip,
  });
  const org = chooseOrg(activeOrgs, input.selectedOrg);
  // The account's rules, not the named org's: a lax org must not lower what a strict one demands.
  const policy = await getAccountPasswordPolicy(ctx.db, user.id, ctx.config.maxLockoutMinutes);
  await assertPasswordAllowed(ctx.db, policy, user.id, input.newPassword);
  const passwordHash = await hashPassword(input.newPassword);
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    await storePassword(trx, user.id, passwordHash, now);
    await recordAudit(trx, now, {
      type: "password.changed",
      orgId: org.orgId,
      actorUserId: user.id,
      subjectUserId: user.id,
      ip,
    });
    await revokeSessions(
      ctx,
      { userId: user.id, everyOrg: true },
      { actorUserId: user.id, reason: "password_changed", ip },
      trx,
    );
  });
}
