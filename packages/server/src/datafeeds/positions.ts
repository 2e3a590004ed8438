import type { Kysely } from "kysely";
import type { AppContext } from "../context.ts";
import type { Database } from "../storage/schema.ts";

/** A place in the audit events' order: (tx_id, id). */
export interface FeedPosition {
  tx: number;
  id: number;
}

export function isAfter(a: FeedPosition, b: FeedPosition): boolean {
  return a.tx > b.tx || (a.tx === b.tx && a.id > b.id);
}

/**
 * The last audit event that can no longer be overtaken by one still being written (see
 * StorageDialect.settledAuditHorizon); (0, 0) when there is none.
 */
export async function latestSettledPosition(
  ctx: AppContext,
  db: Kysely<Database> = ctx.db,
  horizon?: number,
): Promise<FeedPosition> {
  const settledBelow = horizon ?? (await ctx.storage.settledAuditHorizon(db));
  const row = await db
    .selectFrom("audit_events")
    .select(["tx_id", "id"])
    .where("tx_id", "<", settledBelow)
    .orderBy("tx_id", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ? { tx: Number(row.tx_id), id: Number(row.id) } : { tx: 0, id: 0 };
}
