import type { Role } from "@tessera/protocol";
import type { Kysely } from "kysely";
import type { Database, UserKind } from "../storage/schema.ts";

/** An account as it is created: everything else starts at its column default. */
export interface NewUser {
  email: string;
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
}

/** The one place a membership row is written; returns its id (the API's `orgUserId`). */
export async function insertMembership(db: Kysely<Database>, membership: NewMembership, now: number): Promise<number> {
  const row = await db
    .insertInto("memberships")
    .values({
      org_id: membership.orgId,
      user_id: membership.userId,
      role: membership.role,
      ...(membership.active === false ? { active: 0 } : {}),
      created_at: now,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}
