import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Kysely } from "kysely";
import type { Database } from "../storage/schema.ts";

export const signingAlgorithm = "ES256";
/** An authorization token lives at most this long (contract §2). */
export const maxAuthorizationTokenMs = 5 * 60_000;

export interface SigningKey {
  kid: string;
  key: CryptoKey;
}

type CryptoKey = Awaited<ReturnType<typeof importJWK>>;

/** Imported keys by kid; a key row never changes once written, so this cache needs no invalidation. */
const importedPrivate = new Map<string, CryptoKey>();
const importedPublic = new Map<string, CryptoKey>();

async function createSigningKey(db: Kysely<Database>, now: number): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair(signingAlgorithm, { extractable: true });
  const kid = randomBytes(12).toString("base64url");
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: signingAlgorithm, use: "sig" };
  await db
    .insertInto("signing_keys")
    .values({
      kid,
      alg: signingAlgorithm,
      private_jwk: JSON.stringify(await exportJWK(privateKey)),
      public_jwk: JSON.stringify(publicJwk),
      created_at: now,
      retired_at: null,
    })
    .execute();
  return kid;
}

/** The newest unretired key, created on first use. Read from the database so a rotation on any node is seen at once. */
export async function currentSigningKey(db: Kysely<Database>, now: number): Promise<SigningKey> {
  const row = await db
    .selectFrom("signing_keys")
    .select(["kid", "private_jwk"])
    .where("retired_at", "is", null)
    .orderBy("created_at", "desc")
    .orderBy("kid")
    .limit(1)
    .executeTakeFirst();
  if (!row) {
    await createSigningKey(db, now);
    return currentSigningKey(db, now);
  }
  let key = importedPrivate.get(row.kid);
  if (!key) {
    key = await importJWK(JSON.parse(row.private_jwk) as JWK, signingAlgorithm);
    importedPrivate.set(row.kid, key);
  }
  return { kid: row.kid, key };
}

/**
 * Retires every current key and creates a new one; run it inside a transaction. Retired
 * public keys stay in the JWKS until every token they signed has expired (five minutes).
 */
export async function rotateSigningKeys(
  trx: Kysely<Database>,
  now: number,
): Promise<{ kid: string; retired: string[] }> {
  const retired = await trx
    .updateTable("signing_keys")
    .set({ retired_at: now })
    .where("retired_at", "is", null)
    .returning("kid")
    .execute();
  const kid = await createSigningKey(trx, now);
  return { kid, retired: retired.map((row) => row.kid) };
}

/** The public keys that may have signed a token that is still valid at `now`. */
export async function publishedKeys(db: Kysely<Database>, now: number): Promise<JWK[]> {
  const rows = await db
    .selectFrom("signing_keys")
    .select(["public_jwk"])
    .where((eb) => eb.or([eb("retired_at", "is", null), eb("retired_at", ">", now - maxAuthorizationTokenMs)]))
    .orderBy("created_at")
    .execute();
  return rows.map((row) => JSON.parse(row.public_jwk) as JWK);
}

/** The public key of `kid` while it is published; undefined otherwise. */
export async function publishedKey(db: Kysely<Database>, kid: string, now: number): Promise<CryptoKey | undefined> {
  const row = await db
    .selectFrom("signing_keys")
    .select(["public_jwk", "retired_at"])
    .where("kid", "=", kid)
    .executeTakeFirst();
  if (!row || (row.retired_at !== null && row.retired_at <= now - maxAuthorizationTokenMs)) return undefined;
  let key = importedPublic.get(kid);
  if (!key) {
    key = await importJWK(JSON.parse(row.public_jwk) as JWK, signingAlgorithm);
    importedPublic.set(kid, key);
  }
  return key;
}
