import type { ApiKeySummary } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/** `GET /admin/orgs/{orgId}/api-keys`: keys not yet revoked; never the key or its hash. */
export async function listApiKeys(ctx: AppContext, orgId: number): Promise<ApiKeySummary[]> {
  const rows = await ctx.db
    .selectFrom("api_keys")
    .select(["id", "name", "membership_id", "user_id", "prefix", "created_at", "last_used_at"])
    .where("org_id", "=", orgId)
    .where("revoked_at", "is", null)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({
    id: row.id,
    name: row.name,
    orgUserId: row.membership_id,
    userId: row.user_id,
    prefix: row.prefix,
    createdAt: toUnixSeconds(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : toUnixSeconds(row.last_used_at),
  }));
}

/** `DELETE /admin/orgs/{orgId}/api-keys/{id}`: the key answers 401 from its next use on. */
export async function revokeApiKey(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  apiKeyId: number,
  ip: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable("api_keys")
      .set({ revoked_at: now })
      .where("id", "=", apiKeyId)
      .where("org_id", "=", orgId)
      .where("revoked_at", "is", null)
      .returning(["user_id", "name"])
      .executeTakeFirst();
    if (!revoked) throw new TesseraError("not_found", `No API key ${apiKeyId} in this organisation`);
    await recordAudit(trx, now, {
      type: "api_key.revoked",
      orgId,
      actorUserId: caller.userId,
      subjectUserId: revoked.user_id,
      data: { apiKeyId, name: revoked.name },
      ip,
    });
  });
}
