import type { AuditEvent } from "@tessera/protocol";
import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { Database } from "../storage/schema.ts";

/** Stable audit event types; the README documents each. */
export type AuditEventType =
  | "org.created"
  | "user.created"
  | "membership.created"
  | "membership.updated"
  | "membership.invited"
  | "membership.accepted"
  | "membership.declined"
  | "login.succeeded"
  | "login.failed"
  | "account.locked"
  | "user.unlocked"
  | "session.created"
  | "session.renewed"
  | "session.revoked"
  | "session.expired"
  | "password.changed"
  | "password.expiring"
  | "password_policy.updated"
  | "session_policy.updated"
  | "api_key.created"
  | "api_key.revoked"
  | "trusted_ca.added"
  | "trusted_ca.removed"
  | "application.created"
  | "application.updated"
  | "rsa_key.added"
  | "rsa_key.removed"
  | "signing_key.rotated"
  | "introspection_client.created"
  | "introspection_client.removed"

  // Single sign-on
  | "sso_config.updated"
  | "sso.login.succeeded"
  | "sso.login.failed";

export interface AuditRecord {
  type: AuditEventType;
  orgId: number | null;
  actorUserId: number | null;
  subjectUserId?: number | null;
  /** Never a secret: no token, password or key belongs here. */
  data?: Record<string, unknown>;
  ip?: string | null;
}

/** Written with the caller's transaction (or database), so the event commits with the change it describes. */
export async function recordAudit(db: Kysely<Database>, now: number, record: AuditRecord): Promise<void> {
  await db
    .insertInto("audit_events")
    .values({
      type: record.type,
      org_id: record.orgId,
      actor_user_id: record.actorUserId,
      subject_user_id: record.subjectUserId ?? null,
      data: JSON.stringify(record.data ?? {}),
      ip: record.ip ?? null,
      created_at: now,
    })
    .execute();
}

export const defaultAuditPageSize = 100;
export const maxAuditPageSize = 1000;

/** `GET /admin/orgs/{orgId}/audit`: the org's events with id > `after`, oldest first, for paging forward. */
export async function listAuditEvents(
  ctx: AppContext,
  orgId: number,
  page: { after: number; limit: number },
): Promise<AuditEvent[]> {
  const rows = await ctx.db
    .selectFrom("audit_events")
    .selectAll()
    .where("org_id", "=", orgId)
    .where("id", ">", page.after)
    .orderBy("id")
    .limit(page.limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    orgId: row.org_id,
    actorUserId: row.actor_user_id,
    subjectUserId: row.subject_user_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    ip: row.ip,
    createdAt: row.created_at,
  }));
}

/** Reads `after` and `limit` (already shaped by the query schema) and enforces the page-size cap. */
export function auditPage(query: { after?: string; limit?: string }): { after: number; limit: number } {
  const limit = query.limit === undefined ? defaultAuditPageSize : Number(query.limit);
  if (limit > maxAuditPageSize) {
    throw new TesseraError("invalid_request", `limit must be between 1 and ${maxAuditPageSize}`);
  }
  return { after: query.after === undefined ? 0 : Number(query.after), limit };
}
