import type { PasswordPolicy, Role, SessionPolicy } from "@tessera/protocol";
import { hashPassword } from "@tessera/server/internal/crypto/passwords.ts";
import {
  getPasswordPolicy,
  getSessionPolicy,
  putPasswordPolicy,
  putSessionPolicy,
} from "@tessera/server/internal/policies/policies.ts";
import type { Database } from "@tessera/server/internal/storage/schema.ts";
import { storePassword } from "@tessera/server/internal/user-sessions/password.ts";
import { createUserSession } from "@tessera/server/internal/user-sessions/sessions.ts";
import { adminEmail, type TestInstance } from "./instance.ts";

/**
 * Test data written straight to the instance's database, so user-session tests do not depend
 * on the administration API. Every write uses the instance's clock.
 */

export const memberPassword = "members-password-0001";

let sequence = 0;

/** A fresh, unique email for each fixture user. */
export function uniqueEmail(label = "user"): string {
  sequence++;
  return `${label}-${sequence}-${process.pid}@example.com`;
}

export interface FixtureUser {
  userId: number;
  email: string;
  password: string;
}

export interface FixtureMember extends FixtureUser {
  orgId: number;
  membershipId: number;
  role: Role;
}

/** A person with a password (stored with its history, as a real password change would). */
export async function createUser(
  tessera: TestInstance,
  options: { email?: string; password?: string; displayName?: string; active?: boolean } = {},
): Promise<FixtureUser> {
  const email = (options.email ?? uniqueEmail()).toLowerCase();
  const password = options.password ?? memberPassword;
  const now = tessera.clock.now();
  const db = tessera.ctx.db;
  const row = await db
    .insertInto("users")
    .values({
      email,
      display_name: options.displayName ?? email.split("@")[0] ?? email,
      kind: "person",
      username: null,
      password_hash: null,
      password_changed_at: null,
      must_change_password: 0,
      active: options.active === false ? 0 : 1,
      is_system_admin: 0,
      failed_attempts: 0,
      locked_until: null,
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await storePassword(db, row.id, await hashPassword(password), now);
  return { userId: row.id, email, password };
}

export async function createOrg(tessera: TestInstance, name = `Org ${uniqueEmail("org")}`): Promise<number> {
  const row = await tessera.ctx.db
    .insertInto("orgs")
    .values({ name, created_at: tessera.clock.now() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Adds `userId` to `orgId` with `role`; returns the membership id (the API's orgUserId). */
export async function addMembership(
  tessera: TestInstance,
  options: { orgId: number; userId: number; role?: Role; active?: boolean },
): Promise<number> {
  const row = await tessera.ctx.db
    .insertInto("memberships")
    .values({
      org_id: options.orgId,
      user_id: options.userId,
      role: options.role ?? "member",
      active: options.active === false ? 0 : 1,
      created_at: tessera.clock.now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A new person who is a member of one org (the bootstrap org by default). */
export async function createMember(
  tessera: TestInstance,
  options: { orgId?: number; role?: Role; email?: string; password?: string } = {},
): Promise<FixtureMember> {
  const user = await createUser(tessera, options);
  const orgId = options.orgId ?? tessera.orgId;
  const role = options.role ?? "member";
  const membershipId = await addMembership(tessera, { orgId, userId: user.userId, role });
  return { ...user, orgId, membershipId, role };
}

export async function setUserActive(tessera: TestInstance, userId: number, active: boolean): Promise<void> {
  await tessera.ctx.db
    .updateTable("users")
    .set({ active: active ? 1 : 0 })
    .where("id", "=", userId)
    .execute();
}

export async function setMembershipActive(tessera: TestInstance, membershipId: number, active: boolean): Promise<void> {
  await tessera.ctx.db
    .updateTable("memberships")
    .set({ active: active ? 1 : 0 })
    .where("id", "=", membershipId)
    .execute();
}

export async function setMembershipRole(tessera: TestInstance, membershipId: number, role: Role): Promise<void> {
  await tessera.ctx.db.updateTable("memberships").set({ role }).where("id", "=", membershipId).execute();
}

/** Marks every session of `userId` revoked, as an admin's revocation would. */
export async function revokeUserSessions(tessera: TestInstance, userId: number): Promise<void> {
  await tessera.ctx.db
    .updateTable("sessions")
    .set({ revoked_at: tessera.clock.now() })
    .where("user_id", "=", userId)
    .execute();
}

export async function setPasswordPolicy(
  tessera: TestInstance,
  orgId: number,
  changes: Partial<PasswordPolicy>,
): Promise<void> {
  const current = await getPasswordPolicy(tessera.ctx.db, orgId);
  await putPasswordPolicy(tessera.ctx.db, orgId, { ...current, ...changes });
}

export async function setSessionPolicy(
  tessera: TestInstance,
  orgId: number,
  changes: Partial<SessionPolicy>,
): Promise<void> {
  const current = await getSessionPolicy(tessera.ctx.db, orgId);
  await putSessionPolicy(tessera.ctx.db, orgId, { ...current, ...changes });
}

const tables: readonly (keyof Database)[] = [
  "orgs",
  "users",
  "memberships",
  "password_history",
  "password_policies",
  "session_policies",
  "sessions",
  "session_tokens",
  "api_keys",
  "audit_events",
];

/** Row counts of every table: equal before and after a rejected request means nothing was written. */
export async function countRows(tessera: TestInstance): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await tessera.ctx.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

/** The user's lockout state, as stored. */
export async function lockoutState(
  tessera: TestInstance,
  userId: number,
): Promise<{ failedAttempts: number; lockedUntil: number | null }> {
  const row = await tessera.ctx.db
    .selectFrom("users")
    .select(["failed_attempts", "locked_until"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  return { failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
}

/**
 * A session token for `email` in `orgId` (the bootstrap admin in the bootstrap org by default),
 * opened without a password check: for tests that need many tokens and no argon2 work.
 */
export async function openSession(
  tessera: TestInstance,
  options: { email?: string; orgId?: number } = {},
): Promise<string> {
  const orgId = options.orgId ?? tessera.orgId;
  const row = await tessera.ctx.db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select(["u.id as userId", "m.id as membershipId", "m.role", "o.name as orgName"])
    .where("u.email", "=", (options.email ?? adminEmail).toLowerCase())
    .where("m.org_id", "=", orgId)
    .executeTakeFirstOrThrow();
  const session = await createUserSession(
    tessera.ctx,
    row.userId,
    { orgId, orgName: row.orgName, membershipId: row.membershipId, role: row.role },
    { ip: "127.0.0.1", method: "password" },
  );
  return session.token;
}
