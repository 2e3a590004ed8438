import type { AuditEvent } from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

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
