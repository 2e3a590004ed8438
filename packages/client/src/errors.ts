import { type ErrorCode, isErrorCode } from "@tessera/protocol";

/**
 * Codes the SDK adds for failures that never reached a Tessera answer.
 *
 * @example
 * ```ts
 * if (error instanceof ServerUnavailable && error.code === "network_error") console.warn("offline");
 * ```
 */
export type ClientErrorCode = "network_error" | "unexpected_response";

/**
 * Every code a {@link TesseraClientError} can carry: the server's registry plus the SDK's own.
 *
 * @example
 * ```ts
 * function explain(code: TesseraErrorCode): string {
 *   switch (code) {
 *     case "password_expired": return "Change your password first";
 *     case "account_locked": return "Try again later";
 *     default: return code;
 *   }
 * }
 * ```
 */
export type TesseraErrorCode = ErrorCode | ClientErrorCode;

/**
 * Constructor options shared by every SDK error.
 *
 * @example
 * ```ts
 * throw new ServerUnavailable("service_unavailable", { status: 503, detail: "maintenance", retryAfterSeconds: 30 });
 * ```
 */
export interface TesseraClientErrorOptions {
  /** The HTTP status, or 0 when no answer arrived. */
  status: number;
  /** The server's human-readable detail (never a secret: Tessera never echoes one). */
  detail?: string | undefined;
  /** The raw code string the server sent, when it is not in this SDK's registry. */
  reason?: string | undefined;
  /** Seconds the server asked us to wait (`Retry-After`). */
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

/**
 * Base class of every error the SDK throws for a refused or failed call. `code` is the stable
 * registry code (problem+json `code`, or Symphony's `reason` on its paths).
 *
 * @example
 * ```ts
 * try {
 *   await UserSession.login({ baseUrl, email, password });
 * } catch (error) {
 *   if (error instanceof TesseraClientError) console.error(error.code, error.status);
 * }
 * ```
 */
export class TesseraClientError extends Error {
  readonly code: TesseraErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  /** The server's own code string when it is unknown to this SDK version (then `code` is "unexpected_response"). */
  readonly reason: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(code: TesseraErrorCode, options: TesseraClientErrorOptions) {
    super(options.detail ? `${code}: ${options.detail}` : code, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status;
    this.detail = options.detail;
    this.reason = options.reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * Wrong email or password (the server does not say which), or a refused service login.
 *
 * @example
 * ```ts
 * if (error instanceof InvalidCredentials) prompt("Wrong email or password");
 * ```
 */
export class InvalidCredentials extends TesseraClientError {}

/**
 * The password has expired under the org's policy; change it with `POST /user/password`.
 *
 * @example
 * ```ts
 * if (error instanceof PasswordExpired) await changePassword();
 * ```
 */
export class PasswordExpired extends TesseraClientError {}

/**
 * Too many failed logins; `retryAfterSeconds` says when to try again.
 *
 * @example
 * ```ts
 * if (error instanceof AccountLocked) console.log(`locked for ${error.retryAfterSeconds} s`);
 * ```
 */
export class AccountLocked extends TesseraClientError {}

/**
 * The user is active in other orgs, but not in the `selectedOrg` that was asked for.
 *
 * @example
 * ```ts
 * if (error instanceof OrgAccessDenied) console.log("pick one of GET /user/orgs");
 * ```
 */
export class OrgAccessDenied extends TesseraClientError {}

/**
 * The user is an active member of no org at all.
 *
 * @example
 * ```ts
 * if (error instanceof NoActiveOrg) console.log("ask an admin to add you to an org");
 * ```
 */
export class NoActiveOrg extends TesseraClientError {}

/**
 * The user belongs to several orgs and no `selectedOrg` was given; `orgIds` lists them.
 *
 * @example
 * ```ts
 * catch (error) {
 *   if (error instanceof SelectedOrgRequired) {
 *     session = await UserSession.login({ baseUrl, email, password, selectedOrg: error.orgIds[0] });
 *   }
 * }
 * ```
 */
export class SelectedOrgRequired extends TesseraClientError {
  readonly orgIds: readonly number[];

  constructor(code: TesseraErrorCode, options: TesseraClientErrorOptions & { orgIds: readonly number[] }) {
    super(code, options);
    this.orgIds = options.orgIds;
  }
}

/**
 * The token or key is missing, expired, revoked or unknown (401).
 *
 * @example
 * ```ts
 * session.on("expired", () => console.log("log in again"));
 * ```
 */
export class InvalidToken extends TesseraClientError {}

/**
 * A live token whose role does not allow the action (403).
 *
 * @example
 * ```ts
 * if (error instanceof Forbidden) console.log("ask an org admin for the right role");
 * ```
 */
export class Forbidden extends TesseraClientError {}

/**
 * Too many requests (429); `retryAfterSeconds` says when to try again. The SDK retries these itself.
 *
 * @example
 * ```ts
 * if (error instanceof RateLimited) await sleep((error.retryAfterSeconds ?? 1) * 1000);
 * ```
 */
export class RateLimited extends TesseraClientError {}

/**
 * A 5xx answer, or no answer at all (`code: "network_error"`). The SDK retries these itself.
 *
 * @example
 * ```ts
 * session.on("failed", ({ error }) => {
 *   if (error instanceof ServerUnavailable) console.warn("Tessera unreachable, retrying");
 * });
 * ```
 */
export class ServerUnavailable extends TesseraClientError {}

/**
 * Whether retrying the same call later can succeed: network failures, 429 and 5xx.
 *
 * @example
 * ```ts
 * if (isTransient(error)) scheduleRetry();
 * ```
 */
export function isTransient(error: unknown): boolean {
  return error instanceof RateLimited || error instanceof ServerUnavailable;
}

type ErrorClass = new (code: TesseraErrorCode, options: TesseraClientErrorOptions) => TesseraClientError;

const classByCode: Partial<Record<TesseraErrorCode, ErrorClass>> = {
  invalid_credentials: InvalidCredentials,
  password_expired: PasswordExpired,
  account_locked: AccountLocked,
  org_access_denied: OrgAccessDenied,
  no_active_org: NoActiveOrg,
  invalid_token: InvalidToken,
  forbidden: Forbidden,
  too_many_requests: RateLimited,
  internal_error: ServerUnavailable,
  service_unavailable: ServerUnavailable,
  network_error: ServerUnavailable,
};

function classByStatus(status: number, during: "authenticate" | "call"): ErrorClass {
  if (status === 401) return during === "authenticate" ? InvalidCredentials : InvalidToken;
  if (status === 403) return Forbidden;
  if (status === 429) return RateLimited;
  if (status >= 500) return ServerUnavailable;
  return TesseraClientError;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

interface ErrorBody {
  code?: unknown;
  reason?: unknown;
  detail?: unknown;
  message?: unknown;
  orgIds?: unknown;
}

/**
 * Turns a non-2xx answer into the matching typed error. Reads problem+json (`code`, `detail`)
 * and Symphony's `{code, message, reason}` alike. `during` says whether the call was a login,
 * so that an unknown 401/403 reason from an authenticate endpoint reads as refused credentials.
 *
 * @example
 * ```ts
 * const response = await session.fetch("/user/orgs");
 * if (!response.ok) throw await errorFromResponse(response);
 * ```
 */
export async function errorFromResponse(
  response: { status: number; headers: { get(name: string): string | null }; text(): Promise<string> },
  during: "authenticate" | "call" = "call",
): Promise<TesseraClientError> {
  let body: ErrorBody = {};
  try {
    const parsed: unknown = JSON.parse(await response.text());
    if (parsed !== null && typeof parsed === "object") body = parsed as ErrorBody;
  } catch {
    // Not JSON (a proxy's error page, say): the status alone decides.
  }
  const rawCode = typeof body.code === "string" ? body.code : typeof body.reason === "string" ? body.reason : undefined;
  const known = isErrorCode(rawCode) ? rawCode : undefined;
  const detailText = typeof body.detail === "string" ? body.detail : body.message;
  const options: TesseraClientErrorOptions = {
    status: response.status,
    detail: typeof detailText === "string" ? detailText : undefined,
    reason: rawCode,
    retryAfterSeconds: parseRetryAfter(response.headers.get("retry-after")),
  };
  if (known === "selected_org_required") {
    const orgIds = Array.isArray(body.orgIds) ? body.orgIds.filter((id): id is number => typeof id === "number") : [];
    return new SelectedOrgRequired(known, { ...options, orgIds });
  }
  if (known) {
    const ErrorType = classByCode[known] ?? classByStatus(response.status, during);
    return new ErrorType(known, options);
  }
  const ErrorType = classByStatus(response.status, during);
  return new ErrorType(fallbackCode(ErrorType), options);
}

function fallbackCode(ErrorType: ErrorClass): TesseraErrorCode {
  if (ErrorType === InvalidCredentials) return "invalid_credentials";
  if (ErrorType === InvalidToken) return "invalid_token";
  if (ErrorType === Forbidden) return "forbidden";
  if (ErrorType === RateLimited) return "too_many_requests";
  if (ErrorType === ServerUnavailable) return "service_unavailable";
  return "unexpected_response";
}

/**
 * Wraps a failure to reach the server (DNS, refused connection, reset, TLS) as `network_error`.
 * The cause is kept for debugging; the message never holds a header or body.
 *
 * @example
 * ```ts
 * try { await fetch(url); } catch (cause) { throw networkError(cause); }
 * ```
 */
export function networkError(cause: unknown): ServerUnavailable {
  const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : "";
  return new ServerUnavailable("network_error", {
    status: 0,
    detail: reason || "the server could not be reached",
    cause,
  });
}
