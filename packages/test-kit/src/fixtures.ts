import type { PasswordPolicy, Role, SessionPolicy } from "@tessera/protocol";
import { hashPassword } from "@tessera/server/internal/crypto/passwords.ts";
import {
  getPasswordPolicy,
  getSessionPolicy,
  putPasswordPolicy,
  putSessionPolicy,
} from "@tessera/server/internal/policies/policies.ts";
import { openUserSession } from "@tessera/server/internal/sessions/open-session.ts";
import type { Database } from "@tessera/server/internal/storage/schema.ts";
import { storePassword } from "@tessera/server/internal/user-sessions/password.ts";
import { insertMembership, insertUser } from "@tessera/server/internal/users/users.ts";
import { adminEmail, type TestInstance } from "./instance.ts";

/**
 * Test data written straight to a running Tessera's database, so that set-up does not depend on
 * the administration API, and what the server recorded, read back. Accounts and memberships are
 * written by the server's own insertUser and insertMembership; every write uses the server's clock.
 */

/** What the fixtures need of a running Tessera: a TestInstance, or what serve() returns. */
type Running = Pick<TestInstance, "ctx">;

/** The password fixtures and the admin helpers give members; long enough for the default policy. */
export const memberPassword = "a long enough member password";

let sequence = 0;

/** A fresh, unique email for a test user (unique across the processes of one run too). */
export function uniqueEmail(label = "user"): string {
  sequence++;
  return `${label}-${sequence}-${process.pid}@example.com`;
}

/** `Password` is null for a person without a password (as single sign-on users are). */
export interface FixtureUser<Password extends string | null = string> {
  userId: number;
  email: string;
  password: Password;
}

export interface FixtureMember<Password extends string | null = string> extends FixtureUser<Password> {
  orgId: number;
  membershipId: number;
  role: Role;
}

export async function createOrg(tessera: Running, name = `Org ${uniqueEmail("org")}`): Promise<number> {
  const row = await tessera.ctx.db
    .insertInto("orgs")
    .values({ name, created_at: tessera.ctx.clock.now() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * A person with `memberPassword` (stored with its history, as a real password change would),
 * another password, or none with `password: null` (as single sign-on users are). Its home org
 * is `homeOrgId`, the first org by default.
 */
export async function createPerson<Password extends string | null = string>(
  tessera: Running,
  options: { email?: string; password?: Password; displayName?: string; active?: boolean; homeOrgId?: number } = {},
): Promise<FixtureUser<Password>> {
  const email = (options.email ?? uniqueEmail()).toLowerCase();
  const password = (options.password === undefined ? memberPassword : options.password) as Password;
  const now = tessera.ctx.clock.now();
  const db = tessera.ctx.db;
  const homeOrgId = options.homeOrgId ?? (await firstOrgId(tessera));
  const userId = await insertUser(
    db,
    {
      email,
      homeOrgId,
      displayName: options.displayName ?? email.split("@")[0] ?? email,
      kind: "person",
      active: options.active,
    },
    now,
  );
  if (password !== null) await storePassword(db, userId, await hashPassword(password), now);
  return { userId, email, password };
}

async function firstOrgId(tessera: Running): Promise<number> {
  const row = await tessera.ctx.db.selectFrom("orgs").select("id").orderBy("id").limit(1).executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Adds `userId` to `orgId` with `role`, as an accepted membership (or, with `invitation`, one
 * waiting for the account to accept it); returns the membership id (the API's orgUserId).
 */
export async function addMembership(
  tessera: Running,
  options: { orgId: number; userId: number; role?: Role; active?: boolean; invitation?: boolean },
): Promise<number> {
  return insertMembership(
    tessera.ctx.db,
    {
      orgId: options.orgId,
      userId: options.userId,
      role: options.role ?? "member",
      active: options.active,
      invitation: options.invitation,
    },
    tessera.ctx.clock.now(),
  );
}

/** A new person (see createPerson) whose home is the one org it is a member of, the bootstrap org by default. */
export async function createMember<Password extends string | null = string>(
  tessera: TestInstance,
  options: {
    orgId?: number;
    role?: Role;
    email?: string;
    password?: Password;
    active?: boolean;
    membershipActive?: boolean;
  } = {},
): Promise<FixtureMember<Password>> {
  const orgId = options.orgId ?? tessera.orgId;
  const user = await createPerson<Password>(tessera, { ...options, homeOrgId: orgId });
  const role = options.role ?? "member";
  const membershipId = await addMembership(tessera, {
    orgId,
    userId: user.userId,
    role,
    active: options.membershipActive,
  });
  return { ...user, orgId, membershipId, role };
}

/**
 * A service user as the admin API creates one: kind service, username = certificate CN, no
 * password, and a membership with role `service`.
 */
export async function createServiceUser(
  tessera: Running,
  options: { orgId: number; username: string; active?: boolean; membershipActive?: boolean },
): Promise<{ userId: number; membershipId: number }> {
  const now = tessera.ctx.clock.now();
  const userId = await insertUser(
    tessera.ctx.db,
    {
      email: `${options.username.toLowerCase().replace(/[^a-z0-9.-]/g, "-")}@service.example.com`,
      homeOrgId: options.orgId,
      displayName: `${options.username} (bot)`,
      kind: "service",
      username: options.username,
      active: options.active,
    },
    now,
  );
  const membershipId = await insertMembership(
    tessera.ctx.db,
    { orgId: options.orgId, userId, role: "service", active: options.membershipActive },
    now,
  );
  return { userId, membershipId };
}

export async function setUserActive(tessera: Running, userId: number, active: boolean): Promise<void> {
  await tessera.ctx.db
    .updateTable("users")
    .set({ active: active ? 1 : 0 })
    .where("id", "=", userId)
    .execute();
}

export async function setMembershipActive(tessera: Running, membershipId: number, active: boolean): Promise<void> {
  await tessera.ctx.db
    .updateTable("memberships")
    .set({ active: active ? 1 : 0 })
    .where("id", "=", membershipId)
    .execute();
}

export async function setMembershipRole(tessera: Running, membershipId: number, role: Role): Promise<void> {
  await tessera.ctx.db.updateTable("memberships").set({ role }).where("id", "=", membershipId).execute();
}

/** Marks every session of `userId` revoked, as an admin's revocation would. */
export async function revokeUserSessions(tessera: Running, userId: number): Promise<void> {
  await tessera.ctx.db
    .updateTable("sessions")
    .set({ revoked_at: tessera.ctx.clock.now() })
    .where("user_id", "=", userId)
    .execute();
}

export async function setPasswordPolicy(
  tessera: Running,
  orgId: number,
  changes: Partial<PasswordPolicy>,
): Promise<void> {
  const current = await getPasswordPolicy(tessera.ctx.db, orgId);
  await putPasswordPolicy(tessera.ctx.db, orgId, { ...current, ...changes });
}

export async function setSessionPolicy(
  tessera: Running,
  orgId: number,
  changes: Partial<SessionPolicy>,
): Promise<void> {
  const current = await getSessionPolicy(tessera.ctx.db, orgId);
  await putSessionPolicy(tessera.ctx.db, orgId, { ...current, ...changes });
}

/** Every table of the schema: one added to Database but not here fails to compile. */
const everyTable: Record<keyof Database, true> = {
  orgs: true,
  users: true,
  memberships: true,
  password_history: true,
  password_policies: true,
  session_policies: true,
  sessions: true,
  session_tokens: true,
  api_keys: true,
  audit_events: true,
  server_secrets: true,
  trusted_cas: true,
  applications: true,
  service_rsa_keys: true,
  signing_keys: true,
  sso_configs: true,
  sso_login_attempts: true,
  sso_handovers: true,
  datafeeds: true,
  unknown_email_failures: true,
  key_pair_token_uses: true,
  introspection_clients: true,
};
const tables = Object.keys(everyTable) as (keyof Database)[];

export type RowCounts = Record<keyof Database, number>;

/**
 * Row counts of every table: equal before and after a rejected request means nothing was
 * written. A test whose refusal is recorded on purpose (an audit event) compares the rest and
 * names that table.
 */
export async function countRows(tessera: Running): Promise<RowCounts> {
  const counts = {} as RowCounts;
  for (const table of tables) {
    const row = await tessera.ctx.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

/** The stored audit events of `type`, oldest first, with `data` parsed. */
export async function auditEventsOfType(tessera: Running, type: string) {
  const rows = await tessera.ctx.db
    .selectFrom("audit_events")
    .selectAll()
    .where("type", "=", type)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({ ...row, data: JSON.parse(row.data) as Record<string, unknown> }));
}

/** How many audit events of `type` the server recorded (for counting logins and renewals). */
export async function countAudit(tessera: Running, type: string): Promise<number> {
  return (await auditEventsOfType(tessera, type)).length;
}

/** How many requests the server answered for `method route` (its own Prometheus counter). */
export async function countRequests(tessera: Running, method: string, route: string): Promise<number> {
  const metric = await tessera.ctx.metrics.requests.get();
  return metric.values
    .filter((value) => value.labels.method === method && value.labels.route === route)
    .reduce((sum, value) => sum + value.value, 0);
}

/** The user's lockout state, as stored. */
export async function lockoutState(
  tessera: Running,
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
  const session = await openUserSession(
    tessera.ctx,
    row.userId,
    { orgId, membershipId: row.membershipId },
    { ip: "127.0.0.1", method: "password" },
  );
  return session.token;
}
