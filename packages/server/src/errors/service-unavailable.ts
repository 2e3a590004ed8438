import { TesseraError } from "./tessera-error.ts";

/** Seconds a client is asked to wait while the database is unreachable. */
export const unavailableRetryAfterSeconds = 5;

/** 503 `service_unavailable` with Retry-After: the database cannot be reached right now. */
export function databaseUnavailable(): TesseraError {
  return new TesseraError("service_unavailable", "The database is unreachable; try again shortly", {
    headers: { "retry-after": String(unavailableRetryAfterSeconds) },
  });
}
