import { SelectedOrgRequired, TesseraClientError } from "@tessera/client";

/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** Prints a failure the way every `tessera` command does, and returns its exit code. */
export function reportFailure(error: unknown, usage: string): number {
  if (error instanceof UsageError) {
    process.stderr.write(`tessera: ${error.message}\n\n${usage}`);
    return 2;
  }
  if (error instanceof SelectedOrgRequired) {
    process.stderr.write(`tessera: you belong to several orgs; pass --org with one of: ${error.orgIds.join(", ")}\n`);
    return 1;
  }
  if (error instanceof TesseraClientError) {
    const retry = error.retryAfterSeconds === undefined ? "" : ` (retry after ${error.retryAfterSeconds} s)`;
    process.stderr.write(`tessera: ${error.code}${error.detail ? `: ${error.detail}` : ""}${retry}\n`);
    return 1;
  }
  throw error;
}
