/** Socket-level failures: the server is down, restarting, or unreachable. */
const networkCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs that say "not now" rather than "wrong query": admin_shutdown, crash_shutdown,
 * cannot_connect_now (starting up, shutting down, in recovery), too_many_connections,
 * and read_only_sql_transaction (a replica promoted late or a failover in progress).
 */
const unavailableStates = new Set(["57P01", "57P02", "57P03", "53300", "25006"]);

/** node-postgres and pg-pool report these without a code. */
const unavailableMessages = [
  "Connection terminated",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
  "Cannot use a pool after calling end on the pool",
];

/**
 * Whether `error` means PostgreSQL cannot be reached right now: the request should get 503
 * with Retry-After, not 500. Looks through `cause` and AggregateError's `errors` (a refused
 * connection to a name with several addresses).
 */
export function isPostgresUnavailableError(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (networkCodes.has(code) || unavailableStates.has(code)) return true;
    // Class 08: connection exceptions.
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (unavailableMessages.some((message) => error.message.startsWith(message))) return true;
  if (error instanceof AggregateError && error.errors.some((inner) => isPostgresUnavailableError(inner, depth + 1))) {
    return true;
  }
  return isPostgresUnavailableError(error.cause, depth + 1);
}
