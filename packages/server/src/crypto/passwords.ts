import { hash, verify } from "@node-rs/argon2";
import { normalisePassword } from "../user-sessions/password-rules.ts";

/**
 * argon2id with OWASP's first recommended profile (19 MiB, 2 passes, 1 lane). @node-rs/argon2
 * runs each hash on the libuv thread pool, so password work never blocks the event loop.
 */
export const argon2Options = {
  algorithm: 2, // Algorithm.Argon2id (a const enum, which isolated modules cannot import)
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** Hashes the NFC form of `password` (see normalisePassword). */
export function hashPassword(password: string): Promise<string> {
  return hash(normalisePassword(password), argon2Options);
}

/**
 * Verifies the NFC form of `password`; a hash stored before passwords were normalised may hold
 * another form, so the password as typed is tried too when it differs.
 */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  const normalised = normalisePassword(password);
  if (await verifyForm(passwordHash, normalised)) return true;
  return normalised !== password && (await verifyForm(passwordHash, password));
}

async function verifyForm(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword("tessera-dummy-password-for-unknown-users");
  return dummyHash;
}

/** Computes the dummy hash ahead of the first login, so the first unknown email costs no more than a wrong password. */
export async function prepareDummyPassword(): Promise<void> {
  await dummyPasswordHash();
}

/**
 * Spends the same work as a real verification, for logins whose email is unknown, so that
 * response time does not reveal which emails have accounts.
 */
export async function verifyDummyPassword(password: string): Promise<void> {
  await verifyPassword(await dummyPasswordHash(), password);
}
