import type { Invitation, OrgMembership } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/**
 * Invitations are answered by the account itself, signed in with its own credentials (a user
 * session in any org it is active in): an API key is created by an admin, so it never accepts.
 */
function assertOwnSession(caller: Principal): void {
  if (caller.sessionId === null || caller.kind !== "person") {
    throw new TesseraError("forbidden", "An invitation is answered with the account's own user session");
  }
}

/** `GET /user/invitations`: the caller's invitations that are waiting for an answer, oldest first. */
export async function listInvitations(ctx: AppContext, caller: Principal): Promise<Invitation[]> {
  assertOwnSession(caller);
  const rows = await ctx.db
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select(["m.id", "o.id as orgId", "o.name as orgName", "m.role", "m.created_at"])
    .where("m.user_id", "=", caller.userId)
    .where("m.accepted_at", "is", null)
    .orderBy("m.id")
    .execute();
  return rows.map((row) => ({
    id: row.id,
    org: { id: row.orgId, name: row.orgName },
    role: row.role,
    invitedAt: toUnixSeconds(row.created_at),
  }));
}

/**
 * `POST /user/invitations/{id}/accept`: the membership becomes active and accepted (from then on
 * the org's identity provider may sign the account on there). 404 for anything but the caller's
 * own open invitation.
 */
export async function acceptInvitation(
  ctx: AppContext,
  caller: Principal,
  invitationId: number,
  ip: string,
): Promise<OrgMembership> {
  assertOwnSession(caller);
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const invitation = await findOpenInvitation(ctx, trx, caller, invitationId);
    await trx
      .updateTable("memberships")
      .set({ accepted_at: now, active: 1 })
      .where("id", "=", invitation.id)
      .where("accepted_at", "is", null)
      .execute();
    await recordAudit(trx, now, {
      type: "membership.accepted",
      orgId: invitation.org_id,
      actorUserId: caller.userId,
      subjectUserId: caller.userId,
      data: { orgUserId: invitation.id, role: invitation.role },
      ip,
    });
    return { id: invitation.org_id, name: invitation.orgName, role: invitation.role };
  });
}

/** `POST /user/invitations/{id}/decline`: the invitation is removed; the org may invite again. */
export async function declineInvitation(
  ctx: AppContext,
  caller: Principal,
  invitationId: number,
  ip: string,
): Promise<void> {
  assertOwnSession(caller);
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const invitation = await findOpenInvitation(ctx, trx, caller, invitationId);
    await trx.deleteFrom("memberships").where("id", "=", invitation.id).where("accepted_at", "is", null).execute();
    await recordAudit(trx, now, {
      type: "membership.declined",
      orgId: invitation.org_id,
      actorUserId: caller.userId,
      subjectUserId: caller.userId,
      data: { orgUserId: invitation.id },
      ip,
    });
  });
}

async function findOpenInvitation(ctx: AppContext, trx: AppContext["db"], caller: Principal, invitationId: number) {
  const org = await trx
    .selectFrom("memberships")
    .select("org_id")
    .where("id", "=", invitationId)
    .where("user_id", "=", caller.userId)
    .where("accepted_at", "is", null)
    .executeTakeFirst();
  if (!org) throw new TesseraError("not_found", `No open invitation ${invitationId}`);
  // Serialised with the org's other membership changes; read again under the lock.
  await ctx.storage.lockOrg(trx, org.org_id);
  const invitation = await trx
    .selectFrom("memberships as m")
    .innerJoin("orgs as o", "o.id", "m.org_id")
    .select(["m.id", "m.org_id", "m.role", "o.name as orgName"])
    .where("m.id", "=", invitationId)
    .where("m.user_id", "=", caller.userId)
    .where("m.accepted_at", "is", null)
    .executeTakeFirst();
  if (!invitation) throw new TesseraError("not_found", `No open invitation ${invitationId}`);
  return invitation;
}
