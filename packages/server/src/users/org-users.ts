import type { CreateOrgUserRequest, OrgUser, Role, UpdateOrgUserRequest } from "@tessera/protocol";
import type { Kysely } from "kysely";
import { assertMayActOn } from "../access/owner-guard.ts";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { hashPassword } from "../crypto/passwords.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { getPasswordPolicy } from "../policies/policies.ts";
import { revokeSessions } from "../sessions/revoke-sessions.ts";
import type { Database, UserKind } from "../storage/schema.ts";
import { revokeMembershipApiKeys } from "../user-sessions/api-keys.ts";
import { assertPasswordAllowed, storePassword } from "../user-sessions/password.ts";
import { insertMembership, insertUser } from "./users.ts";

function orgUsersQuery(db: Kysely<Database>, orgId: number) {
  return db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select([
      "u.id",
      "m.id as orgUserId",
      "u.email",
      "u.display_name",
      "u.kind",
      "u.username",
      "m.role",
      "u.active as userActive",
      "m.active as membershipActive",
      "m.accepted_at as acceptedAt",
    ])
    .where("m.org_id", "=", orgId);
}

type OrgUserRow = Awaited<ReturnType<ReturnType<typeof orgUsersQuery>["executeTakeFirstOrThrow"]>>;

/** The name a new account gets when the admin gives none: the email's local part. */
function defaultDisplayName(email: string): string {
  return email.slice(0, email.indexOf("@"));
}

function toOrgUser(row: OrgUserRow): OrgUser {
  if (row.acceptedAt === null) {
    // An invitation shows what the inviting admin sent and nothing of the account (its name,
    // kind, username), which belongs to another org until it accepts.
    return {
      id: row.id,
      orgUserId: row.orgUserId,
      email: row.email,
      displayName: defaultDisplayName(row.email),
      kind: "person",
      username: null,
      role: row.role,
      active: false,
    };
  }
  return {
    id: row.id,
    orgUserId: row.orgUserId,
    email: row.email,
    displayName: row.display_name,
    kind: row.kind,
    username: row.username,
    role: row.role,
    active: row.userActive === 1 && row.membershipActive === 1,
  };
}

/** `GET /admin/orgs/{orgId}/users`: every member of the org, active or not, invited ones too, oldest first. */
export async function listOrgUsers(ctx: AppContext, orgId: number): Promise<OrgUser[]> {
  const rows = await orgUsersQuery(ctx.db, orgId).orderBy("m.id").execute();
  return rows.map(toOrgUser);
}

async function findOrgUser(db: Kysely<Database>, orgId: number, userId: number): Promise<OrgUserRow | undefined> {
  return orgUsersQuery(db, orgId).where("u.id", "=", userId).executeTakeFirst();
}

/**
 * Role `service` is for service users. Besides it, a service user may hold only the read-only
 * `auditor` role: a monitoring integration that reads the org's datafeed (contract §3).
 */
function assertRoleFitsKind(role: Role, kind: UserKind): void {
  const fits = kind === "service" ? role === "service" || role === "auditor" : role !== "service";
  if (!fits) {
    throw new TesseraError(
      "invalid_request",
      kind === "service"
        ? 'Service users take the role "service" (or "auditor")'
        : 'The role "service" is only for service users',
    );
  }
}

function validateNewUserInput(input: CreateOrgUserRequest): UserKind {
  const kind = input.kind ?? "person";
  assertRoleFitsKind(input.role, kind);
  if (kind === "service") {
    if (input.username === undefined) throw new TesseraError("invalid_request", "Service users need a username");
    if (input.password !== undefined) {
      throw new TesseraError("invalid_request", "Service users have no password; they authenticate by certificate");
    }
  } else if (input.username !== undefined) {
    throw new TesseraError("invalid_request", "Only service users have a username");
  }
  return kind;
}

/** One answer for a taken email or username of a new service user, whoever holds it. */
function serviceIdentityTaken(): TesseraError {
  return new TesseraError("conflict", "The email or the username is already taken");
}

/**
 * `POST /admin/orgs/{orgId}/users`: creates an account owned by this org, with a membership. An
 * email that already has an account of another org gets an invitation instead (a membership that
 * stays inactive until that account accepts it, GET /user/invitations): the answer has the same
 * status and fields, no 409 tells that the email exists, and nothing of the account (password,
 * name, kind, username, other memberships) is read or set. Service users belong to their org only.
 */
export async function createOrgUser(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  input: CreateOrgUserRequest,
  ip: string,
): Promise<OrgUser> {
  const kind = validateNewUserInput(input);
  assertMayActOn(caller, input.role, "grant the owner role");
  const email = input.email.toLowerCase();
  let passwordHash: string | null = null;
  if (input.password !== undefined) {
    // Checked and hashed before the transaction, and whether or not the email has an account:
    // a refused password leaves no row behind, and an invitation takes as long as a creation.
    await assertPasswordAllowed(ctx.db, await getPasswordPolicy(ctx.db, orgId), null, input.password);
    passwordHash = await hashPassword(input.password);
  }

  const now = ctx.clock.now();
  const userId = await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("users")
      .select(["id", "kind", "username", "home_org_id"])
      .where("email", "=", email)
      .executeTakeFirst();
    if (!existing) {
      const id = await insertAccount(trx, { email, kind, input, orgId, now });
      if (passwordHash !== null) await storePassword(trx, id, passwordHash, now);
      const membershipId = await insertMembership(trx, { orgId, userId: id, role: input.role }, now);
      await recordAudit(trx, now, {
        type: "user.created",
        orgId,
        actorUserId: caller.userId,
        subjectUserId: id,
        data: { orgUserId: membershipId, email, kind, role: input.role, hasPassword: passwordHash !== null },
        ip,
      });
      return id;
    }
    const member = await trx
      .selectFrom("memberships")
      .select("id")
      .where("org_id", "=", orgId)
      .where("user_id", "=", existing.id)
      .executeTakeFirst();
    // The admin sees its own members and invitations: saying so reveals nothing new.
    if (member) throw new TesseraError("conflict", "The user is already a member of this organisation");
    if (kind === "service") throw serviceIdentityTaken();
    const owned = existing.home_org_id === orgId;
    if (owned) assertFitsOwnAccount(existing, kind, input);
    const membershipId = await insertMembership(
      trx,
      { orgId, userId: existing.id, role: input.role, invitation: !owned },
      now,
    );
    await recordAudit(trx, now, {
      type: owned ? "membership.created" : "membership.invited",
      orgId,
      actorUserId: caller.userId,
      subjectUserId: existing.id,
      data: { orgUserId: membershipId, email, ...(owned ? { kind } : {}), role: input.role },
      ip,
    });
    return existing.id;
  });
  const created = await findOrgUser(ctx.db, orgId, userId);
  if (!created) throw new Error("membership vanished after it was created");
  return toOrgUser(created);
}

/** An account of this very org that lost its membership here: the admin owns it and may be told why not. */
function assertFitsOwnAccount(existing: { kind: UserKind }, kind: UserKind, input: CreateOrgUserRequest): void {
  if (existing.kind !== kind) {
    throw new TesseraError("conflict", `A ${existing.kind} user with this email already exists`);
  }
  if (input.password !== undefined) {
    throw new TesseraError(
      "conflict",
      "A user with this email already exists; its password is changed with POST /user/password",
    );
  }
}

/** A new account owned by `orgId`: a service user's username (certificate CN) must be free everywhere. */
async function insertAccount(
  trx: Kysely<Database>,
  user: { email: string; kind: UserKind; input: CreateOrgUserRequest; orgId: number; now: number },
): Promise<number> {
  const { email, kind, input, orgId, now } = user;
  if (input.username !== undefined) {
    const taken = await trx.selectFrom("users").select("id").where("username", "=", input.username).executeTakeFirst();
    if (taken) throw serviceIdentityTaken();
  }
  return insertUser(
    trx,
    {
      email,
      homeOrgId: orgId,
      displayName: input.displayName ?? input.username ?? defaultDisplayName(email),
      kind,
      username: input.username ?? null,
    },
    now,
  );
}

/**
 * `PATCH /admin/orgs/{orgId}/users/{userId}`: changes the role or the active flag of a
 * membership. The access layer re-reads both on every request, so the user's sessions and
 * API keys feel the change on their next call; deactivation also revokes the user's live
 * sessions and the membership's API keys in this org, so that a later reactivation brings
 * none of them back.
 */
export async function updateOrgUser(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  userId: number,
  input: UpdateOrgUserRequest,
  ip: string,
): Promise<OrgUser> {
  const now = ctx.clock.now();
  const deactivated = await ctx.db.transaction().execute(async (trx) => {
    await ctx.storage.lockOrg(trx, orgId);
    const target = await findOrgUser(trx, orgId, userId);
    if (!target) throw new TesseraError("not_found", `No user ${userId} in this organisation`);
    // Only the account activates an invitation, by accepting it; until then nothing of it changes.
    if (target.acceptedAt === null) throw new TesseraError("invitation_pending");
    if (input.role !== undefined) {
      assertRoleFitsKind(input.role, target.kind);
      assertMayActOn(caller, input.role, "grant the owner role");
    }
    if (target.role === "owner" && caller.role !== "owner") {
      throw new TesseraError("forbidden", "Only an owner may change an owner");
    }
    const role = input.role ?? target.role;
    const active = input.active === undefined ? target.membershipActive : input.active ? 1 : 0;
    if (role === target.role && active === target.membershipActive) return false;

    const wasActiveOwner = target.role === "owner" && target.membershipActive === 1 && target.userActive === 1;
    if (wasActiveOwner && (role !== "owner" || active !== 1)) await assertAnotherActiveOwner(trx, orgId, userId);

    await trx.updateTable("memberships").set({ role, active }).where("id", "=", target.orgUserId).execute();
    await recordAudit(trx, now, {
      type: "membership.updated",
      orgId,
      actorUserId: caller.userId,
      subjectUserId: userId,
      data: {
        orgUserId: target.orgUserId,
        ...(role !== target.role ? { role: { from: target.role, to: role } } : {}),
        ...(active !== target.membershipActive
          ? { active: { from: target.membershipActive === 1, to: active === 1 } }
          : {}),
      },
      ip,
    });
    const deactivating = active === 0 && target.membershipActive === 1;
    if (deactivating) {
      await revokeMembershipApiKeys(
        trx,
        now,
        { orgId, membershipId: target.orgUserId },
        { actorUserId: caller.userId, ip },
      );
    }
    return deactivating;
  });
  if (deactivated) {
    await revokeSessions(ctx, { orgId, userId }, { actorUserId: caller.userId, reason: "admin", ip });
  }
  const updated = await findOrgUser(ctx.db, orgId, userId);
  if (!updated) throw new Error("membership vanished after it was updated");
  return toOrgUser(updated);
}

async function assertAnotherActiveOwner(trx: Kysely<Database>, orgId: number, exceptUserId: number): Promise<void> {
  const other = await trx
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select("m.id")
    .where("m.org_id", "=", orgId)
    .where("m.role", "=", "owner")
    .where("m.active", "=", 1)
    .where("u.active", "=", 1)
    .where("m.user_id", "!=", exceptUserId)
    .limit(1)
    .executeTakeFirst();
  if (!other) {
    throw new TesseraError("last_owner", "Make another member owner before demoting or deactivating the last one");
  }
}
