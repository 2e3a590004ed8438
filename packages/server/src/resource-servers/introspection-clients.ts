import { randomBytes } from "node:crypto";
import type { CreatedIntrospectionClient, IntrospectionClient } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import { hashToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/**
 * Resource servers registered to introspect one org's tokens with a client id and secret (RFC 7662
 * callers such as Apache's mod_oauth2), instead of holding a user session that lapses in 15 minutes.
 */

type ClientRow = { id: number; name: string; client_id: string; created_at: number };

function toView(row: ClientRow): IntrospectionClient {
  return { id: row.id, name: row.name, clientId: row.client_id, createdAt: toUnixSeconds(row.created_at) };
}

/** `GET /admin/orgs/{orgId}/introspection-clients`: never the secrets, which are not stored. */
export async function listIntrospectionClients(ctx: AppContext, orgId: number): Promise<IntrospectionClient[]> {
  const rows = await ctx.db
    .selectFrom("introspection_clients")
    .select(["id", "name", "client_id", "created_at"])
    .where("org_id", "=", orgId)
    .orderBy("id")
    .execute();
  return rows.map(toView);
}

/** `POST /admin/orgs/{orgId}/introspection-clients`: a new client; its secret is shown this once. */
export async function createIntrospectionClient(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  name: string,
  ip: string,
): Promise<CreatedIntrospectionClient> {
  const clientId = `tessera-${randomBytes(12).toString("hex")}`;
  const clientSecret = randomBytes(32).toString("base64url");
  const now = ctx.clock.now();
  const row = await ctx.db.transaction().execute(async (trx) => {
    const created = await trx
      .insertInto("introspection_clients")
      .values({
        org_id: orgId,
        name,
        client_id: clientId,
        secret_hash: hashToken(clientSecret),
        created_by_user_id: caller.userId,
        created_at: now,
      })
      .returning(["id", "name", "client_id", "created_at"])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, now, {
      type: "introspection_client.created",
      orgId,
      actorUserId: caller.userId,
      data: { introspectionClientId: created.id, name, clientId },
      ip,
    });
    return created;
  });
  return { ...toView(row), clientSecret };
}

/** `DELETE /admin/orgs/{orgId}/introspection-clients/{id}`: its next introspection is refused. */
export async function removeIntrospectionClient(
  ctx: AppContext,
  caller: Principal,
  orgId: number,
  id: number,
  ip: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const removed = await trx
      .deleteFrom("introspection_clients")
      .where("id", "=", id)
      .where("org_id", "=", orgId)
      .returning(["name", "client_id"])
      .executeTakeFirst();
    if (!removed) throw new TesseraError("not_found", `No introspection client ${id} in this organisation`);
    await recordAudit(trx, now, {
      type: "introspection_client.removed",
      orgId,
      actorUserId: caller.userId,
      data: { introspectionClientId: id, name: removed.name, clientId: removed.client_id },
      ip,
    });
  });
}

/** Compared against when the client id is unknown, so that the answer takes as long. */
const absentSecretHash = hashToken("no introspection client has this secret");

export function invalidClient(detail: string): TesseraError {
  return new TesseraError("invalid_client", detail, { headers: { "www-authenticate": 'Basic realm="tessera"' } });
}

/** The org whose tokens the client `clientId` may introspect; 401 invalid_client unless the secret is its own. */
export async function authenticateIntrospectionClient(
  ctx: AppContext,
  clientId: string,
  clientSecret: string,
): Promise<{ orgId: number }> {
  const row = await ctx.db
    .selectFrom("introspection_clients")
    .select(["org_id", "secret_hash"])
    .where("client_id", "=", clientId)
    .executeTakeFirst();
  const matches = constantTimeEqual(hashToken(clientSecret), row?.secret_hash ?? absentSecretHash);
  if (!row || !matches) throw invalidClient("The client id or secret is not valid");
  return { orgId: row.org_id };
}
