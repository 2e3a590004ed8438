import type { CreateOrgRequest, Org } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/** `POST /admin/orgs`: a system admin creates an org and becomes its owner. */
export async function createOrg(ctx: AppContext, caller: Principal, input: CreateOrgRequest, ip: string): Promise<Org> {
  if (!caller.isSystemAdmin) throw new TesseraError("forbidden", "Only a system admin may create organisations");
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
    const membership = await trx
      .insertInto("memberships")
      .values({ org_id: org.id, user_id: caller.userId, role: "owner", active: 1, created_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
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
      data: { orgUserId: membership.id, role: "owner" },
      ip,
    });
    return { id: org.id, name };
  });
}
