import type { CreateApiKeyResponse } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { generateToken, hashToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/** Characters of a key kept in clear so admins can recognise it in lists. */
const visiblePrefixLength = 10;

/** `POST /user/apiKey`: an org admin creates a key that acts as `orgUserId` with its current rights. */
export async function createApiKey(
  ctx: AppContext,
  caller: Principal,
  input: { orgUserId: number; name: string },
  ip: string,
): Promise<CreateApiKeyResponse> {
  const membership = await ctx.db
    .selectFrom("memberships")
    .select(["id", "user_id", "role"])
    .where("id", "=", input.orgUserId)
    .where("org_id", "=", caller.orgId)
    .executeTakeFirst();
  if (!membership) throw new TesseraError("not_found", `No org user ${input.orgUserId} in this organisation`);
  if (membership.role === "owner" && caller.role !== "owner") {
    throw new TesseraError("forbidden", "Only an owner can create a key that acts as an owner");
  }
  const apiKey = generateToken("apiKey");
  const now = ctx.clock.now();
  const id = await ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("api_keys")
      .values({
        org_id: caller.orgId,
        membership_id: membership.id,
        user_id: membership.user_id,
        name: input.name,
        key_hash: hashToken(apiKey),
        prefix: apiKey.slice(0, visiblePrefixLength),
        created_by_user_id: caller.userId,
        created_at: now,
        last_used_at: null,
        revoked_at: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await recordAudit(trx, now, {
      type: "api_key.created",
      orgId: caller.orgId,
      actorUserId: caller.userId,
      subjectUserId: membership.user_id,
      data: { apiKeyId: row.id, name: input.name },
      ip,
    });
    return row.id;
  });
  return { id, apiKey, name: input.name, orgUserId: membership.id };
}
