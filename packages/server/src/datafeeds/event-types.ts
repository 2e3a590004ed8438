import type { AuditEventType } from "../audit/audit.ts";

/**
 * The datafeed `type` of every audit event: stable names in Symphony's style, documented in
 * docs/datafeeds.md. A Record, so a new audit event type cannot be added without a feed name.
 */
export const datafeedEventTypes: Readonly<Record<AuditEventType, string>> = {
  "org.created": "ORG_CREATED",
  "user.created": "USER_CREATED",
  "membership.created": "MEMBERSHIP_CREATED",
  "membership.updated": "MEMBERSHIP_UPDATED",
  "membership.invited": "MEMBERSHIP_INVITED",
  "membership.accepted": "MEMBERSHIP_ACCEPTED",
  "membership.declined": "MEMBERSHIP_DECLINED",
  "login.succeeded": "LOGIN_SUCCEEDED",
  "login.failed": "LOGIN_FAILED",
  "account.locked": "ACCOUNT_LOCKED",
  "user.unlocked": "USER_UNLOCKED",
  "session.created": "SESSION_CREATED",
  "session.renewed": "SESSION_RENEWED",
  "session.revoked": "SESSION_REVOKED",
  "session.expired": "SESSION_EXPIRED",
  "password.changed": "PASSWORD_CHANGED",
  "password.expiring": "PASSWORD_EXPIRING",
  "password_policy.updated": "PASSWORD_POLICY_UPDATED",
  "session_policy.updated": "SESSION_POLICY_UPDATED",
  "api_key.created": "API_KEY_CREATED",
  "api_key.revoked": "API_KEY_REVOKED",
  "trusted_ca.added": "CERTIFICATE_AUTHORITY_ADDED",
  "trusted_ca.removed": "CERTIFICATE_AUTHORITY_REMOVED",
  "application.created": "APPLICATION_CREATED",
  "application.updated": "APPLICATION_UPDATED",
  "rsa_key.added": "RSA_KEY_ADDED",
  "rsa_key.removed": "RSA_KEY_REMOVED",
  "signing_key.rotated": "SIGNING_KEY_ROTATED",
  "introspection_client.created": "INTROSPECTION_CLIENT_CREATED",
  "introspection_client.removed": "INTROSPECTION_CLIENT_REMOVED",
  "sso_config.updated": "SSO_CONFIG_UPDATED",
  "sso.login.succeeded": "SSO_LOGIN_SUCCEEDED",
  "sso.login.failed": "SSO_LOGIN_FAILED",
};

/** A membership change that changed the role is announced as ROLE_CHANGED (what integrations watch for). */
export const roleChangedType = "ROLE_CHANGED";

export function datafeedEventType(auditType: string, data: Record<string, unknown>): string {
  if (auditType === "membership.updated" && data.role !== undefined) return roleChangedType;
  return datafeedEventTypes[auditType as AuditEventType] ?? auditType.toUpperCase().replace(/[.]/g, "_");
}
