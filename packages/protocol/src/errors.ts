/**
 * The one registry of Tessera's error codes. Every problem response carries one of these
 * `code`s; clients `switch` on them, so a code never changes meaning once published.
 */
export const errorCodes = {
  invalid_request: { status: 400, title: "The request is not valid" },
  malformed_json: { status: 400, title: "The request body is not valid JSON" },
  invalid_id: { status: 400, title: "An identifier in the path is not a positive integer" },
  selected_org_required: {
    status: 400,
    title: "The user belongs to several organisations; selectedOrg is required",
  },
  password_policy_violation: {
    status: 400,
    title: "The new password does not satisfy the organisation's password policy",
  },
  password_too_long: { status: 400, title: "The new password is longer than 128 characters" },
  password_too_common: {
    status: 400,
    title: "The new password is on the list of common and breached passwords",
  },
  invalid_session_policy: { status: 400, title: "The session policy is out of range" },
  request_body_not_allowed: {
    status: 400,
    title: "This endpoint takes no request body (and, in strict mode, no Content-Type)",
  },
  invalid_certificate: { status: 400, title: "The PEM is not a usable X.509 certificate" },
  invalid_public_key: { status: 400, title: "The PEM is not an RSA public key of at least 2048 bits" },
  datafeed_not_found: {
    status: 400,
    title: "The datafeed is unknown, was deleted, or belongs to another user",
  },
  invalid_credentials: { status: 401, title: "The credentials are not valid" },
  password_expired: { status: 401, title: "The password has expired and must be changed" },
  account_locked: { status: 401, title: "The account is temporarily locked" },
  invalid_token: { status: 401, title: "The token is missing, expired, revoked or unknown" },
  invalid_client: { status: 401, title: "The introspection client's id or secret is not valid" },
  client_certificate_required: { status: 401, title: "No client certificate was presented" },
  certificate_untrusted: {
    status: 401,
    title: "The client certificate does not chain to a certificate authority the organisation trusts",
  },
  certificate_expired: { status: 401, title: "The client certificate (or a certificate of its chain) has expired" },
  certificate_not_yet_valid: {
    status: 401,
    title: "The client certificate (or a certificate of its chain) is not yet valid",
  },
  certificate_issuer_not_ca: {
    status: 401,
    title: "A certificate that issued another in the chain is not a CA (basicConstraints cA=TRUE)",
  },
  certificate_issuer_cannot_sign: {
    status: 401,
    title:
      "A CA of the chain may not sign certificates (its keyUsage lacks keyCertSign, or an intermediate has no keyUsage)",
  },
  certificate_path_too_long: {
    status: 401,
    title: "The chain has more intermediates below a CA than its pathLenConstraint allows",
  },
  invalid_key_pair_token: {
    status: 401,
    title: "The key-pair login token is malformed, expired, too long-lived or not signed by a registered key",
  },
  key_pair_token_replayed: {
    status: 401,
    title: "The key-pair login token was already used for this kind of session; sign a new one for each login",
  },
  key_pair_token_audience_mismatch: {
    status: 401,
    title: "The key-pair login token's aud does not name this server",
  },
  org_access_denied: { status: 403, title: "The user is not an active member of that organisation" },
  account_disabled: { status: 403, title: "The account is deactivated" },
  forbidden: { status: 403, title: "The caller's role does not allow this action" },
  datafeed_limit_reached: { status: 403, title: "The user already has the most datafeeds allowed (20)" },
  token_user_mismatch: {
    status: 401,
    title: "The sessionToken and the keyManagerToken do not belong to the same user",
  },
  certificate_key_too_weak: {
    status: 403,
    title: "The client certificate or a certificate of its chain is not RSA of at least 4096 bits",
  },
  certificate_leaf_is_ca: {
    status: 403,
    title: "The client certificate is a CA certificate (basicConstraints cA=TRUE), not an end-entity certificate",
  },
  certificate_not_for_client_auth: {
    status: 403,
    title: "The client certificate's extendedKeyUsage does not include clientAuth",
  },
  service_user_not_found: {
    status: 403,
    title: "The certificate's common name is not the username of an active service user in an active membership",
  },
  application_name_conflict: {
    status: 403,
    title: "An enabled application of the same name with a valid manifest certificate exists",
  },
  not_found: { status: 404, title: "No such resource" },
  no_active_org: { status: 404, title: "The user is not an active member of any organisation" },
  method_not_allowed: { status: 405, title: "The method is not allowed on this resource" },
  request_timeout: { status: 408, title: "The request was not received in time" },
  conflict: { status: 409, title: "The resource already exists" },
  trusted_ca_limit_reached: {
    status: 409,
    title: "The organisation already trusts the most CA certificates allowed (TESSERA_TRUSTED_CA_LIMIT)",
  },
  invitation_pending: {
    status: 409,
    title: "The account has not accepted the organisation's invitation yet; only it can make the membership active",
  },
  last_owner: {
    status: 409,
    title: "The organisation's last active owner cannot be demoted or deactivated",
  },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "The request body must be application/json" },
  too_many_requests: { status: 429, title: "Too many requests from this address" },
  request_header_too_large: { status: 431, title: "The request headers are too large" },
  // Single sign-on (OpenID Connect). A refusal caused by the browser or the identity provider's
  // answer is a 4xx; only an unreachable or misbehaving provider is a 502.
  sso_invalid_config: { status: 400, title: "The single sign-on configuration is not valid" },
  sso_state_invalid: {
    status: 400,
    title: "The sign-on attempt is unknown, expired, already used, or was started in another browser",
  },
  sso_public_url_required: {
    status: 400,
    title: "Set TESSERA_PUBLIC_URL: the redirect URI is built from the Host header only on loopback",
  },
  sso_return_url_not_allowed: { status: 400, title: "The return URL is not allowed for this organisation" },
  sso_code_invalid: { status: 400, title: "The authorization or handover code is invalid, expired or already used" },
  sso_id_token_invalid: { status: 401, title: "The identity provider's ID token is not valid" },
  sso_access_denied: { status: 403, title: "The identity provider refused the sign-on" },
  sso_email_not_verified: { status: 403, title: "The identity provider did not assert a verified email address" },
  sso_domain_not_allowed: { status: 403, title: "The email domain is not allowed for this organisation" },
  sso_user_not_provisioned: {
    status: 403,
    title: "No active account matches this identity and just-in-time provisioning is off",
  },
  sso_account_not_eligible: {
    status: 403,
    title:
      "This account cannot sign on through this organisation's identity provider (system admins, service users, accounts of another organisation that have not accepted a membership in it)",
  },
  sso_not_configured: { status: 404, title: "Single sign-on is not configured for this organisation" },
  sso_idp_error: { status: 502, title: "The identity provider could not be reached or answered badly" },
  internal_error: { status: 500, title: "An internal error occurred" },
  service_unavailable: { status: 503, title: "A dependency is unavailable; try again later" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** The problem+json (RFC 9457) body of every error on Tessera's own paths. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: ErrorCode;
  /** Extra, code-specific members (for example `orgIds` with `selected_org_required`). */
  [extension: string]: unknown;
}

/** The URI that names a problem type; documented in the README's error table. */
export function problemType(code: ErrorCode): string {
  return `urn:tessera:problem:${code}`;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(errorCodes, value);
}
