import type { V4Event } from "@tessera/protocol";
import { roleAllows } from "@tessera/protocol";
import type { Kysely } from "kysely";
import type { LiveServiceSession } from "../access/service-session.ts";
import type { Database } from "../storage/schema.ts";
import { datafeedEventType } from "./event-types.ts";
import type { FeedPosition } from "./positions.ts";

/** Most events in one read. */
export const maxBatchSize = 100;

/** Field names that must never reach a feed, whatever an audit record carries. */
const secretField = /token|password|secret|hash|private/i;

export interface FeedEvent {
  position: FeedPosition;
  event: V4Event;
}

/**
 * The events after `after` (and settled: below `horizon`) that `reader` may see with its
 * CURRENT role: its own account's events in the feed's org, or the whole org's when the role
 * may read the audit log (auditors, admins, owners).
 */
export async function visibleEventsAfter(
  db: Kysely<Database>,
  reader: Pick<LiveServiceSession, "userId" | "orgId" | "role">,
  after: FeedPosition,
  horizon: number,
): Promise<FeedEvent[]> {
  const wholeOrg = roleAllows(reader.role, "audit:read");
  const rows = await db
    .selectFrom("audit_events as e")
    .leftJoin("users as u", (join) =>
      join.on((eb) => eb("u.id", "=", eb.fn.coalesce("e.actor_user_id", "e.subject_user_id"))),
    )
    .select([
      "e.id",
      "e.tx_id",
      "e.type",
      "e.org_id",
      "e.actor_user_id",
      "e.subject_user_id",
      "e.data",
      "e.ip",
      "e.created_at",
      "u.id as initiator_id",
      "u.email as initiator_email",
      "u.display_name as initiator_display_name",
      "u.username as initiator_username",
    ])
    .where("e.tx_id", "<", horizon)
    .where((eb) =>
      eb.or([eb("e.tx_id", ">", after.tx), eb.and([eb("e.tx_id", "=", after.tx), eb("e.id", ">", after.id)])]),
    )
    .where((eb) =>
      wholeOrg
        ? eb("e.org_id", "=", reader.orgId)
        : eb.and([
            eb.or([eb("e.org_id", "=", reader.orgId), eb("e.org_id", "is", null)]),
            eb.or([
              eb("e.subject_user_id", "=", reader.userId),
              eb.and([eb("e.subject_user_id", "is", null), eb("e.actor_user_id", "=", reader.userId)]),
            ]),
          ]),
    )
    .orderBy("e.tx_id")
    .orderBy("e.id")
    .limit(maxBatchSize)
    .execute();
  return rows.map((row) => {
    const data = parseData(row.data);
    const user: V4Event["initiator"]["user"] = {};
    if (row.initiator_id !== null) {
      user.userId = Number(row.initiator_id);
      if (row.initiator_email) user.email = row.initiator_email;
      if (row.initiator_display_name) user.displayName = row.initiator_display_name;
      if (row.initiator_username) user.username = row.initiator_username;
    }
    return {
      position: { tx: Number(row.tx_id), id: Number(row.id) },
      event: {
        id: String(row.id),
        timestamp: Number(row.created_at),
        type: datafeedEventType(row.type, data),
        initiator: { user },
        payload: {
          auditType: row.type,
          orgId: row.org_id === null ? null : Number(row.org_id),
          subjectUserId: row.subject_user_id === null ? null : Number(row.subject_user_id),
          ip: row.ip,
          details: data,
        },
      },
    };
  });
}

/** The audit record's data without anything that looks like a secret (defence in depth: none should be there). */
function parseData(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([key]) => !secretField.test(key)));
}
