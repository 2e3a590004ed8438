import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { ActiveOrg } from "../user-sessions/credentials.ts";
import { insertMembership, insertUser } from "../users/users.ts";
import type { SsoSettings } from "./sso-config.ts";
import { SsoRefusal } from "./sso-error.ts";

export interface SsoIdentity {
  email: string;
  displayName: string | undefined;
  issuer: string;
  subject: string;
}

export interface ResolvedSsoUser {
  userId: number;
  org: ActiveOrg;
  /** What just-in-time provisioning created: nothing, or a new account with its membership. */
  provisioned: "none" | "user";
}

/**
 * Maps a verified identity to a Tessera user in the org (docs/sso.md, "Who may sign on"): linked by
 * verified email to an account whose membership in the org was accepted (its own org's accounts,
 * or another org's account that accepted an invitation); deactivated users and memberships are
 * refused; an unknown email becomes a new account of the org with the default role when
 * just-in-time provisioning is on. An existing account is never attached to the org: one org's
 * provider must not vouch for another org's people. Provisioning and the success audit commit
 * together; a refusal writes nothing.
 */
export async function resolveSsoUser(
  ctx: AppContext,
  settings: SsoSettings,
  identity: SsoIdentity,
  ip: string,
): Promise<ResolvedSsoUser> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const org = await trx
      .selectFrom("orgs")
      .select(["id", "name"])
      .where("id", "=", settings.orgId)
      .executeTakeFirstOrThrow();
    let user = await trx
      .selectFrom("users")
      .select(["id", "kind", "active", "is_system_admin", "home_org_id"])
      .where("email", "=", identity.email)
      .executeTakeFirst();
    let provisioned: ResolvedSsoUser["provisioned"] = "none";

    if (user && (user.kind !== "person" || user.is_system_admin === 1)) {
      // A system admin may create orgs: one org's identity provider must not vouch for that power.
      const reason = user.kind !== "person" ? "service_user" : "system_admin";
      throw new SsoRefusal("sso_account_not_eligible", reason);
    }
    if (user && user.active !== 1) throw new SsoRefusal("account_disabled", "user_deactivated");

    let membership = user
      ? await trx
          .selectFrom("memberships")
          .select(["id", "role", "active", "accepted_at"])
          .where("org_id", "=", settings.orgId)
          .where("user_id", "=", user.id)
          .executeTakeFirst()
      : undefined;
    const accepted = membership !== undefined && membership.accepted_at !== null;
    if (user && !accepted && user.home_org_id !== settings.orgId) {
      // Another org's account, invited or not: only its acceptance lets this provider vouch for it.
      throw new SsoRefusal("sso_account_not_eligible", "other_org_account");
    }
    if (membership && membership.active !== 1) {
      throw new SsoRefusal("org_access_denied", "membership_deactivated");
    }
    if (!membership) {
      if (!settings.jitProvisioning || user) {
        throw new SsoRefusal("sso_user_not_provisioned", user ? "no_membership" : "unknown_user");
      }
      // No password: the account signs on through its provider, so password expiry never applies.
      const userId = await insertUser(
        trx,
        {
          email: identity.email,
          homeOrgId: settings.orgId,
          displayName: identity.displayName ?? identity.email,
          kind: "person",
        },
        now,
      );
      user = { id: userId, kind: "person", active: 1, is_system_admin: 0, home_org_id: settings.orgId };
      await recordAudit(trx, now, {
        type: "user.created",
        orgId: settings.orgId,
        actorUserId: null,
        subjectUserId: user.id,
        data: { email: identity.email, role: settings.defaultRole, via: "sso" },
        ip,
      });
      provisioned = "user";
      const membershipId = await insertMembership(
        trx,
        { orgId: settings.orgId, userId: user.id, role: settings.defaultRole },
        now,
      );
      membership = { id: membershipId, role: settings.defaultRole, active: 1, accepted_at: now };
      await recordAudit(trx, now, {
        type: "membership.created",
        orgId: settings.orgId,
        actorUserId: null,
        subjectUserId: user.id,
        data: { role: settings.defaultRole, via: "sso" },
        ip,
      });
    }
    if (!user) throw new TesseraError("internal_error");

    await recordAudit(trx, now, {
      type: "sso.login.succeeded",
      orgId: settings.orgId,
      actorUserId: user.id,
      subjectUserId: user.id,
      data: { issuer: identity.issuer, subject: identity.subject, email: identity.email, provisioned },
      ip,
    });
    return {
      userId: user.id,
      org: { orgId: org.id, orgName: org.name, membershipId: membership.id, role: membership.role },
      provisioned,
    };
  });
}
