import type { CreateOrgRequest, Org } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { insertMembership } from "../users/users.ts";

/** `POST /admin/orgs`: a system admin creates an org and becomes its owner. */
export async function createOrg(ctx: AppContext, caller: Principal, input: CreateOrgRequest, ip: string): Promise<Org> {
  if (!caller.isSystemAdmin)
    throw new TesseraError("forbidden", "Only a system admin, with a user session, may create organisations");
  const name = input.name.trim();
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom("orgs").select("id").where("name", "=", name).executeTakeFirst();
    if (existing) throw new TesseraError("conflict", `An organisation named "${name}" already exists`);
    const org = await trx
      .insertInto("orgs")
      .values({ name, created_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    const membershipId = await insertMembership(trx, { orgId: org.id, userId: caller.userId, role: "owner" }, now);
    await recordAudit(trx, now, {
      type: "org.created",
      orgId: org.id,
      actorUserId: caller.userId,
      data: { name, createdFromOrgId: caller.orgId },
      ip,
    });
    await recordAudit(trx, now, {
      type: "membership.created",
      orgId: org.id,
      actorUserId: caller.userId,
      subjectUserId: caller.userId,
      data: { orgUserId: membershipId, role: "owner" },
      ip,
    });
    return { id: org.id, name };
  });
}
