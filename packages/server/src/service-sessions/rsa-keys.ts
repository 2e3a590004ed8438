import { createHash, createPublicKey, type KeyObject } from "node:crypto";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

export const minimumLoginKeyBits = 2048;

export interface RsaKeyView {
  id: number;
  userId: number;
  fingerprint: string;
  bits: number;
  createdAt: number;
}

/** Parses an RSA public key (SPKI or PKCS#1 PEM); 400 invalid_public_key otherwise. */
export function parseRsaPublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem.trim());
  } catch {
    throw new TesseraError("invalid_public_key", "The PEM is not a public key");
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== "rsa" || bits < minimumLoginKeyBits) {
    throw new TesseraError(
      "invalid_public_key",
      `An RSA public key of at least ${minimumLoginKeyBits} bits is required`,
    );
  }
  return key;
}

function view(row: {
  id: number;
  user_id: number;
  fingerprint: string;
  public_key_pem: string;
  created_at: number;
}): RsaKeyView {
  return {
    id: row.id,
    userId: row.user_id,
    fingerprint: row.fingerprint,
    bits: createPublicKey(row.public_key_pem).asymmetricKeyDetails?.modulusLength ?? 0,
    createdAt: Math.floor(row.created_at / 1000),
  };
}

/** The service user `userId` as a member of `orgId`; 404 otherwise (also for people: only service users log in with keys). */
async function requireServiceMember(ctx: AppContext, orgId: number, userId: number): Promise<void> {
  const member = await ctx.db
    .selectFrom("memberships as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select("u.kind")
    .where("m.org_id", "=", orgId)
    .where("m.user_id", "=", userId)
    // An invitation is not a membership yet (and shows nothing of the account's kind).
    .where("m.accepted_at", "is not", null)
    .executeTakeFirst();
  if (!member) throw new TesseraError("not_found", "No such user in this organisation");
  if (member.kind !== "service") {
    throw new TesseraError("invalid_request", "Only service users log in with RSA keys");
  }
}

export async function listRsaKeys(ctx: AppContext, orgId: number, userId: number): Promise<RsaKeyView[]> {
  await requireServiceMember(ctx, orgId, userId);
  const rows = await ctx.db
    .selectFrom("service_rsa_keys")
    .select(["id", "user_id", "fingerprint", "public_key_pem", "created_at"])
    .where("org_id", "=", orgId)
    .where("user_id", "=", userId)
    .orderBy("id")
    .execute();
  return rows.map(view);
}

/** Registers a public key with which the service user may sign key-pair login tokens for this org. */
export async function addRsaKey(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  userId: number,
  publicKeyPem: string,
  ip: string,
): Promise<RsaKeyView> {
  const key = parseRsaPublicKey(publicKeyPem);
  await requireServiceMember(ctx, orgId, userId);
  const spki = key.export({ type: "spki", format: "der" });
  const fingerprint = createHash("sha256").update(spki).digest("base64url");
  const now = ctx.clock.now();
  const row = {
    org_id: orgId,
    user_id: userId,
    public_key_pem: key.export({ type: "spki", format: "pem" }).toString(),
    fingerprint,
    created_at: now,
  };
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("service_rsa_keys")
      .select("id")
      .where("org_id", "=", orgId)
      .where("user_id", "=", userId)
      .where("fingerprint", "=", fingerprint)
      .executeTakeFirst();
    if (existing) throw new TesseraError("conflict", `This key is already registered (id ${existing.id})`);
    const inserted = await trx.insertInto("service_rsa_keys").values(row).returning("id").executeTakeFirstOrThrow();
    await recordAudit(trx, now, {
      type: "rsa_key.added",
      orgId,
      actorUserId: principal.userId,
      subjectUserId: userId,
      data: { rsaKeyId: inserted.id, fingerprint },
      ip,
    });
    return view({ id: inserted.id, user_id: userId, fingerprint, public_key_pem: row.public_key_pem, created_at: now });
  });
}

export async function removeRsaKey(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  userId: number,
  keyId: number,
  ip: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const removed = await trx
      .deleteFrom("service_rsa_keys")
      .where("id", "=", keyId)
      .where("org_id", "=", orgId)
      .where("user_id", "=", userId)
      .returning("fingerprint")
      .executeTakeFirst();
    if (!removed) throw new TesseraError("not_found", "No such key for this user in this organisation");
    await recordAudit(trx, now, {
      type: "rsa_key.removed",
      orgId,
      actorUserId: principal.userId,
      subjectUserId: userId,
      data: { rsaKeyId: keyId, fingerprint: removed.fingerprint },
      ip,
    });
  });
}
