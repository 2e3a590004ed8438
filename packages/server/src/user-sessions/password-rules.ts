import { dictionary } from "@zxcvbn-ts/language-common";
import { TesseraError } from "../errors/tessera-error.ts";

/** Most characters a password may have (ASVS 2.1.2): enough for passphrases, bounded work. */
export const maxPasswordLength = 128;

/**
 * Common and breached passwords refused for any account: the ~49,000 most frequent ones of
 * the zxcvbn-ts project's list (MIT), shipped in its package, so the check needs no network.
 * Compared in lower case, as guessers try every case.
 */
const commonPasswords = new Set(dictionary["passwords-common"].map((password) => password.toLowerCase()));

/**
 * The form a password is hashed and verified in: Unicode NFC, so that the same characters typed
 * on keyboards that compose differently are the same password.
 */
export function normalisePassword(password: string): string {
  return password.normalize("NFC");
}

/** Characters (code points) of the normalised password. */
export function passwordLength(password: string): number {
  return [...normalisePassword(password)].length;
}

/**
 * The rules of every new password that need no account: at least `minLength` and at most
 * `maxPasswordLength` characters, not a common password. Throws the matching 400.
 */
export function assertPasswordRules(password: string, minLength: number): void {
  const length = passwordLength(password);
  if (length < minLength) {
    throw new TesseraError("password_policy_violation", `The password must have at least ${minLength} characters`);
  }
  if (length > maxPasswordLength) {
    throw new TesseraError("password_too_long", `The password must have at most ${maxPasswordLength} characters`);
  }
  if (commonPasswords.has(normalisePassword(password).toLowerCase())) {
    throw new TesseraError("password_too_common", "The password is too common; choose one that is not on known lists");
  }
}
