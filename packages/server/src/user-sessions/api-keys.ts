import type { ApiKeySummary, CreateApiKeyResponse } from "@tessera/protocol";
import type { Kysely } from "kysely";
import { assertMayActOn } from "../access/owner-guard.ts";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { generateToken, hashToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { Database } from "../storage/schema.ts";

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
    // An invitation is not a membership yet: no key may wait for its acceptance.
    .where("accepted_at", "is not", null)
    .executeTakeFirst();
  if (!membership) throw new TesseraError("not_found", `No org user ${input.orgUserId} in this organisation`);
  assertMayActOn(caller, membership.role, "create a key that acts as the membership of an owner");
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

/** `DELETE /admin/orgs/{orgId}/api-keys/{id}`: the key answers 401 from its next use on; an owner's key is an owner's to revoke. */
export async function revokeApiKey(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  apiKeyId: number,
  ip: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const target = await trx
      .selectFrom("api_keys as k")
      .innerJoin("memberships as m", "m.id", "k.membership_id")
      .select("m.role")
      .where("k.id", "=", apiKeyId)
      .where("k.org_id", "=", orgId)
      .where("k.revoked_at", "is", null)
      .executeTakeFirst();
    if (target) assertMayActOn(caller, target.role, "revoke an API key of an owner");
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

/**
 * Revokes for good every key of a membership being deactivated, in the deactivation's own
 * transaction: a later reactivation brings back none of them (whoever held them may be why it
 * was deactivated). Each is audited as `api_key.revoked` with reason "membership_deactivated".
 */
export async function revokeMembershipApiKeys(
  trx: Kysely<Database>,
  now: number,
  membership: { orgId: number; membershipId: number },
  audit: { actorUserId: number; ip: string },
): Promise<number> {
  const revoked = await trx
    .updateTable("api_keys")
    .set({ revoked_at: now })
    .where("membership_id", "=", membership.membershipId)
    .where("org_id", "=", membership.orgId)
    .where("revoked_at", "is", null)
    .returning(["id", "user_id", "name"])
    .execute();
  for (const key of revoked) {
    await recordAudit(trx, now, {
      type: "api_key.revoked",
      orgId: membership.orgId,
      actorUserId: audit.actorUserId,
      subjectUserId: key.user_id,
      data: { apiKeyId: key.id, name: key.name, reason: "membership_deactivated" },
      ip: audit.ip,
    });
  }
  return revoked.length;
}
