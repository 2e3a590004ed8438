import { createHmac } from "node:crypto";
import type { PasswordPolicy } from "@tessera/protocol";
import { type Kysely, sql } from "kysely";
import { TesseraError } from "../errors/tessera-error.ts";
import type { Database } from "../storage/schema.ts";

/**
 * Where failed logins are counted: on the account, or, for an email without a password account,
 * on a row keyed by a keyed hash of the email. Both follow one rule (`countFailure`), so the
 * answers to a run of wrong passwords do not tell the two apart.
 */
export interface FailureCounter {
  /** The end of the current lockout, read now (parallel guesses may have set one meanwhile). */
  lockedUntil(db: Kysely<Database>): Promise<number | null>;
  /** Adds one failure, starting afresh when a lockout has run out; returns the counted state. */
  increment(trx: Kysely<Database>, now: number): Promise<{ failedAttempts: number; lockedUntil: number | null }>;
  lock(trx: Kysely<Database>, until: number): Promise<void>;
}

/** A lockout that has run out: the next failure is the first of a new count. */
const lapsed = (lockedUntil: ReturnType<typeof sql.ref>, now: number) =>
  sql<boolean>`${lockedUntil} is not null and ${lockedUntil} <= ${now}`;

export function accountCounter(userId: number): FailureCounter {
  return {
    async lockedUntil(db) {
      const row = await db
        .selectFrom("users")
        .select("locked_until")
        .where("id", "=", userId)
        .executeTakeFirstOrThrow();
      return row.locked_until;
    },
    async increment(trx, now) {
      const isLapsed = lapsed(sql.ref("locked_until"), now);
      const row = await trx
        .updateTable("users")
        .set({
          failed_attempts: sql<number>`case when ${isLapsed} then 1 else failed_attempts + 1 end`,
          locked_until: sql<number | null>`case when ${isLapsed} then null else locked_until end`,
        })
        .where("id", "=", userId)
        .returning(["failed_attempts", "locked_until"])
        .executeTakeFirstOrThrow();
      return { failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
    },
    async lock(trx, until) {
      await trx
        .updateTable("users")
        .set({ failed_attempts: 0, locked_until: until })
        .where("id", "=", userId)
        .execute();
    },
  };
}

/** The counter of an email without a password account, under its keyed hash (the table holds no email). */
export function unknownEmailCounter(emailKey: Buffer, normalisedEmail: string): FailureCounter {
  const emailHash = createHmac("sha256", emailKey).update(normalisedEmail).digest("base64url");
  return {
    async lockedUntil(db) {
      const row = await db
        .selectFrom("unknown_email_failures")
        .select("locked_until")
        .where("email_hash", "=", emailHash)
        .executeTakeFirst();
      return row?.locked_until ?? null;
    },
    async increment(trx, now) {
      // Qualified: in PostgreSQL's DO UPDATE a bare column name is ambiguous with `excluded`.
      const attempts = sql.ref("unknown_email_failures.failed_attempts");
      const lockedUntil = sql.ref("unknown_email_failures.locked_until");
      const isLapsed = lapsed(lockedUntil, now);
      const row = await trx
        .insertInto("unknown_email_failures")
        .values({ email_hash: emailHash, failed_attempts: 1, locked_until: null })
        .onConflict((conflict) =>
          conflict.column("email_hash").doUpdateSet({
            failed_attempts: sql<number>`case when ${isLapsed} then 1 else ${attempts} + 1 end`,
            locked_until: sql<number | null>`case when ${isLapsed} then null else ${lockedUntil} end`,
          }),
        )
        .returning(["failed_attempts", "locked_until"])
        .executeTakeFirstOrThrow();
      return { failedAttempts: row.failed_attempts, lockedUntil: row.locked_until };
    },
    async lock(trx, until) {
      await trx
        .updateTable("unknown_email_failures")
        .set({ failed_attempts: 0, locked_until: until })
        .where("email_hash", "=", emailHash)
        .execute();
    },
  };
}

/**
 * Counts one failure in the database, not from a row read before the (slow) verification, so
 * that parallel guesses all count. Returns the lockout it started, or null. A concurrent guess
 * may have locked already: that lockout stands as it is.
 */
export async function countFailure(
  trx: Kysely<Database>,
  counter: FailureCounter,
  policy: PasswordPolicy,
  now: number,
): Promise<number | null> {
  const counted = await counter.increment(trx, now);
  if (counted.lockedUntil !== null || counted.failedAttempts < policy.maxFailedAttempts) return null;
  const until = now + policy.lockoutMinutes * 60_000;
  await counter.lock(trx, until);
  return until;
}

/** The answer while locked: said whatever the password was, so a locked account cannot test guesses. */
export function accountLocked(lockedUntil: number, now: number): TesseraError {
  return new TesseraError("account_locked", "Too many failed logins; try again later", {
    headers: { "retry-after": String(Math.ceil((lockedUntil - now) / 1000)) },
  });
}
