import type { Role } from "@tessera/protocol";
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/**
 * The database as Kysely sees it. Times are Unix milliseconds; flags are 0/1 integers so
 * that both dialects store them the same way.
 */
export interface Database {
  orgs: OrgTable;
  users: UserTable;
  memberships: MembershipTable;
  password_history: PasswordHistoryTable;
  password_policies: PasswordPolicyTable;
  session_policies: SessionPolicyTable;
  sessions: SessionTable;
  session_tokens: SessionTokenTable;
  api_keys: ApiKeyTable;
  audit_events: AuditEventTable;
  server_secrets: ServerSecretTable;
  trusted_cas: TrustedCaTable;
  applications: ApplicationTable;
  service_rsa_keys: ServiceRsaKeyTable;
  signing_keys: SigningKeyTable;
  // Single sign-on (migration 003-sso).
  sso_configs: SsoConfigTable;
  sso_login_attempts: SsoLoginAttemptTable;
  sso_handovers: SsoHandoverTable;
  // Datafeeds (migration 004-datafeeds).
  datafeeds: DatafeedTable;
  // Failed logins of emails without a password account (migration 007).
  unknown_email_failures: UnknownEmailFailureTable;
  // Single use of key-pair login tokens (migration 008-key-pair-token-uses).
  key_pair_token_uses: KeyPairTokenUseTable;
  // Resource servers (migration 009-introspection-clients).
  introspection_clients: IntrospectionClientTable;
}

type Flag = 0 | 1;
type CreatedAt = ColumnType<number, number, never>;

export interface OrgTable {
  id: Generated<number>;
  name: string;
  created_at: CreatedAt;
}

export type UserKind = "person" | "service";

export interface UserTable {
  id: Generated<number>;
  email: string;
  display_name: string;
  kind: UserKind;
  username: string | null;
  password_hash: string | null;
  password_changed_at: number | null;
  must_change_password: Generated<Flag>;
  active: Generated<Flag>;
  is_system_admin: Generated<Flag>;
  failed_attempts: Generated<number>;
  locked_until: number | null;
  /** The org that owns the account: only its trust anchors vouch for it (migration 006). */
  home_org_id: number;
  created_at: CreatedAt;
}

/** Failed logins of an email that has no password account, counted as an account's are. */
export interface UnknownEmailFailureTable {
  /** Keyed hash (HMAC-SHA-256, base64url) of the normalised email. */
  email_hash: string;
  failed_attempts: number;
  locked_until: number | null;
}

export interface MembershipTable {
  id: Generated<number>;
  org_id: number;
  user_id: number;
  role: Role;
  active: Generated<Flag>;
  created_at: CreatedAt;
  /** The password_changed_at for which "password.expiring" was recorded in this org. */
  password_warning_for: Generated<number | null>;
  /**
   * When the account accepted the membership; null while it is an invitation of another org's
   * account, which stays inactive (and never authenticates) until then (migration 006).
   */
  accepted_at: number | null;
}

export interface PasswordHistoryTable {
  id: Generated<number>;
  user_id: number;
  password_hash: string;
  created_at: CreatedAt;
}

export interface PasswordPolicyTable {
  org_id: number;
  min_length: number;
  max_age_days: number;
  history_count: number;
  max_failed_attempts: number;
  lockout_minutes: number;
}

export interface SessionPolicyTable {
  org_id: number;
  user_idle_seconds: number;
  user_absolute_seconds: number;
  service_session_seconds: number;
  renew_grace_seconds: number;
}

export type SessionKind = "user" | "service" | "keymanager";

export interface SessionTable {
  id: Generated<number>;
  kind: SessionKind;
  user_id: number;
  org_id: number;
  membership_id: number;
  created_at: CreatedAt;
  /** End of the current renewal window. */
  expires_at: number;
  /** Renewals never reach past this. */
  absolute_expires_at: number;
  revoked_at: number | null;
  /** 1 once "session.expired" was recorded (the sweeper's conditional update, so one node records it). */
  expiry_recorded: Generated<Flag>;
}

/** A session's tokens: the current one, and predecessors still inside their renewal grace. */
export interface SessionTokenTable {
  token_hash: string;
  session_id: number;
  created_at: CreatedAt;
  /** Null while this is the current token; once renewed, the end of its grace window. */
  grace_ends_at: number | null;
}

export interface ApiKeyTable {
  id: Generated<number>;
  org_id: number;
  membership_id: number;
  user_id: number;
  name: string;
  key_hash: string;
  prefix: string;
  created_by_user_id: number;
  created_at: CreatedAt;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditEventTable {
  id: Generated<number>;
  org_id: number | null;
  actor_user_id: number | null;
  subject_user_id: number | null;
  type: string;
  data: string;
  ip: string | null;
  created_at: CreatedAt;
  /**
   * Id of the writing transaction on PostgreSQL (0 on SQLite, whose writers take turns): with
   * `id` it orders events so that a reader never passes one that has yet to commit.
   */
  tx_id: Generated<number>;
}

/** A user's datafeed: a cursor over the audit events, and the batch delivered but not yet acknowledged. */
export interface DatafeedTable {
  id: string;
  user_id: number;
  org_id: number;
  tag: string | null;
  created_at: CreatedAt;
  /** Everything up to (acked_tx, acked_id) was acknowledged. */
  acked_tx: number;
  acked_id: number;
  /** The batch in flight: its ackId, its last position, and when it went out. */
  pending_ack_id: string | null;
  pending_tx: number | null;
  pending_id: number | null;
  pending_sent_at: number | null;
  /** Bumped on every change, so concurrent reads of one feed (on any node) cannot both move it. */
  version: number;
}

export interface ServerSecretTable {
  name: string;
  value: string;
  created_at: CreatedAt;
}

/** A certificate authority an org trusts for its service users' client certificates. */
export interface TrustedCaTable {
  id: Generated<number>;
  org_id: number;
  pem: string;
  subject: string;
  /** SHA-256 of the DER, colon-separated upper-case hex (as node's X509Certificate prints it). */
  fingerprint: string;
  /** SHA-1 (hex) of the CA's subject public key, computed (migration 008): what authorityKeyIdentifier names. */
  key_id: string | null;
  created_at: CreatedAt;
}

/** An application of an org; an enabled one with a valid manifest certificate blocks a service user of its name. */
export interface ApplicationTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  manifest_certificate_pem: string | null;
  enabled: Flag;
  marked_for_deletion: Flag;
  created_at: CreatedAt;
}

/** A service user's RSA public key for key-pair login, registered by an admin of `org_id`. */
export interface ServiceRsaKeyTable {
  id: Generated<number>;
  org_id: number;
  user_id: number;
  public_key_pem: string;
  /** SHA-256 of the SPKI DER, base64url. */
  fingerprint: string;
  created_at: CreatedAt;
}

/** A key-pair login token already used for one kind of session, kept while it could still verify. */
export interface KeyPairTokenUseTable {
  /** SHA-256 (hex) of the session kind with the token's sub and jti, or with its signed part when it has no jti. */
  token_hash: string;
  /** Unix ms after which the token can no longer verify (exp plus the clock tolerance): the row may go. */
  expires_at: number;
}

/** Keys that sign authorization tokens; retired keys stay published until their last token expired. */
export interface SigningKeyTable {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: CreatedAt;
  retired_at: number | null;
}

// --- Single sign-on (migration 003-sso) ---

/** One OpenID Connect provider per org. The client secret is sealed (AES-256-GCM), never stored in clear. */
export interface SsoConfigTable {
  org_id: number;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  /** Space-separated, as sent to the provider. */
  scopes: string;
  jit_provisioning: Flag;
  default_role: "member" | "auditor" | "admin";
  /** JSON array of lower-case domains; empty allows every domain. */
  allowed_email_domains: string;
  /** JSON array of absolute URLs. */
  allowed_return_urls: string;
  require_email_verified: Flag;
  enabled: Flag;
  updated_at: number;
}

/** A sign-on in flight: found by the hash of its state, consumed once, dead after a few minutes. */
export interface SsoLoginAttemptTable {
  id: Generated<number>;
  state_hash: string;
  /** Hash of the value in the cookie of the browser that started the attempt. */
  browser_binding_hash: string;
  org_id: number;
  nonce: string;
  code_verifier: string;
  redirect_uri: string;
  return_to: string | null;
  /** S256 challenge of the verifier the client must show at POST /sso/token (migration 005). */
  handover_challenge: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
  consumed_at: number | null;
}

/** A verified sign-on waiting for its client to exchange the handover code for a session. */
export interface SsoHandoverTable {
  code_hash: string;
  org_id: number;
  user_id: number;
  /** The attempt's handover challenge, when its client gave one (migration 005). */
  challenge: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
  expires_at: number;
  consumed_at: number | null;
}

export type SsoConfigRow = Selectable<SsoConfigTable>;
export type SsoLoginAttempt = Selectable<SsoLoginAttemptTable>;

export type User = Selectable<UserTable>;
export type NewUser = Insertable<UserTable>;
export type UserUpdate = Updateable<UserTable>;
export type Membership = Selectable<MembershipTable>;
export type Session = Selectable<SessionTable>;

/** A resource server allowed to introspect the tokens of `org_id` with a client id and secret. */
export interface IntrospectionClientTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  client_id: string;
  /** SHA-256 of the secret (base64url); the secret itself is shown once and never stored. */
  secret_hash: string;
  created_by_user_id: number | null;
  created_at: CreatedAt;
}
