import type { Kysely } from "kysely";
import type { Database } from "../storage/schema.ts";

/** Stable audit event types; the README documents each. */
export type AuditEventType =
  | "org.created"
  | "user.created"
  | "membership.created"
  | "membership.updated"
  | "login.succeeded"
  | "login.failed"
  | "account.locked"
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
