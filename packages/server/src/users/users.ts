import type { Role } from "@tessera/protocol";
import type { Kysely } from "kysely";
import type { Database, UserKind } from "../storage/schema.ts";

/** An account as it is created: everything else starts at its column default. */
export interface NewUser {
  email: string;
  /** The org that creates the account and owns it: only its trust anchors vouch for it. */
  homeOrgId: number;
  displayName: string;
  kind: UserKind;
  /** Service users only: the certificate CN. */
  username?: string | null;
  active?: boolean;
  isSystemAdmin?: boolean;
}

/**
 * The one place an account row is written. A password is stored afterwards with
 * `storePassword`, so that its history is kept from the first one on.
 */
export async function insertUser(db: Kysely<Database>, user: NewUser, now: number): Promise<number> {
  const row = await db
    .insertInto("users")
    .values({
      email: user.email,
      display_name: user.displayName,
      kind: user.kind,
      username: user.username ?? null,
      home_org_id: user.homeOrgId,
      ...(user.active === false ? { active: 0 } : {}),
      ...(user.isSystemAdmin ? { is_system_admin: 1 } : {}),
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface NewMembership {
  orgId: number;
  userId: number;
  role: Role;
  active?: boolean;
  /**
   * An invitation of an account another org owns: inactive, and not accepted until the account
   * itself accepts it (acceptInvitation). Every other membership is accepted when written.
   */
  invitation?: boolean;
}

/** The one place a membership row is written; returns its id (the API's `orgUserId`). */
export async function insertMembership(db: Kysely<Database>, membership: NewMembership, now: number): Promise<number> {
  const row = await db
    .insertInto("memberships")
    .values({
      org_id: membership.orgId,
      user_id: membership.userId,
      role: membership.role,
      ...(membership.active === false || membership.invitation ? { active: 0 } : {}),
      accepted_at: membership.invitation ? null : now,
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}
