import type { X509Certificate } from "node:crypto";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { readExtensions } from "./certificate-extensions.ts";
import { type PresentedCertificate, parseCertificatePem, type TrustAnchor } from "./client-chain.ts";

function readExtensionsOrNothing(certificate: X509Certificate) {
  try {
    return readExtensions(certificate);
  } catch {
    return undefined;
  }
}

export interface TrustedCaView {
  id: number;
  subject: string;
  fingerprint: string;
  notAfter: string;
}

/** Parsed certificates by fingerprint: a certificate never changes, so this cache needs no invalidation. */
const parsedByFingerprint = new Map<string, X509Certificate>();

/**
 * The trusted CAs that can issue a presented certificate, read from the database on each call so
 * that an added or removed CA takes effect on the next handshake of every node. First those whose
 * computed key identifier a presented certificate names, or that the client sent itself (by
 * fingerprint): a look-alike CA (same subject and declared key identifier, another key) is never
 * among them. Only when those do not reach a CA (an issuer whose key identifiers are not the
 * usual SHA-1, or a leaf without authorityKeyIdentifier): the CAs named like an issuer.
 */
export async function loadTrustAnchors(
  ctx: AppContext,
  presented: PresentedCertificate,
  by: "key" | "name",
): Promise<TrustAnchor[]> {
  const certificates = [presented.leaf, ...presented.others];
  const keyIds = certificates.flatMap((certificate) => {
    const aki = readExtensionsOrNothing(certificate)?.authorityKeyId;
    return aki ? [aki] : [];
  });
  const rows = await ctx.db
    .selectFrom("trusted_cas")
    .select(["id", "org_id", "fingerprint"])
    .where((eb) =>
      by === "key"
        ? eb.or([
            eb("fingerprint", "in", ["", ...presented.others.map((certificate) => certificate.fingerprint256)]),
            eb("key_id", "in", ["", ...keyIds]),
          ])
        : eb(
            "subject",
            "in",
            certificates.map((certificate) => certificate.issuer),
          ),
    )
    .execute();
  const missing = rows.filter((row) => !parsedByFingerprint.has(row.fingerprint)).map((row) => row.id);
  if (missing.length > 0) {
    const pems = await ctx.db
      .selectFrom("trusted_cas")
      .select(["fingerprint", "pem"])
      .where("id", "in", missing)
      .execute();
    for (const row of pems) parsedByFingerprint.set(row.fingerprint, parseCertificatePem(row.pem));
  }
  return rows.flatMap((row) => {
    const certificate = parsedByFingerprint.get(row.fingerprint);
    return certificate ? [{ orgId: row.org_id, fingerprint: row.fingerprint, certificate }] : [];
  });
}

function view(row: { id: number; pem: string; subject: string; fingerprint: string }): TrustedCaView {
  const certificate = parseCertificatePem(row.pem);
  return {
    id: row.id,
    subject: row.subject,
    fingerprint: row.fingerprint,
    notAfter: certificate.validToDate.toISOString(),
  };
}

export async function listTrustedCas(ctx: AppContext, orgId: number): Promise<TrustedCaView[]> {
  const rows = await ctx.db
    .selectFrom("trusted_cas")
    .select(["id", "pem", "subject", "fingerprint"])
    .where("org_id", "=", orgId)
    .orderBy("id")
    .execute();
  return rows.map(view);
}

/**
 * Trusts a CA certificate for the org's service users. 400 unless it is a CA certificate; 409
 * when already trusted or when the org trusts TESSERA_TRUSTED_CA_LIMIT CAs already.
 */
export async function addTrustedCa(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  pem: string,
  ip: string,
): Promise<TrustedCaView> {
  const certificate = parseCertificatePem(pem);
  if (!certificate.ca) {
    throw new TesseraError("invalid_certificate", "The certificate is not a CA certificate (basicConstraints CA:TRUE)");
  }
  const extensions = readExtensionsOrNothing(certificate);
  if (!extensions) throw new TesseraError("invalid_certificate", "The certificate's extensions cannot be read");
  const now = ctx.clock.now();
  const row = {
    org_id: orgId,
    pem: certificate.toString(),
    subject: certificate.subject,
    fingerprint: certificate.fingerprint256,
    key_id: extensions.computedKeyId,
    created_at: now,
  };
  return ctx.db.transaction().execute(async (trx) => {
    await ctx.storage.lockOrg(trx, orgId);
    const existing = await trx
      .selectFrom("trusted_cas")
      .select("id")
      .where("org_id", "=", orgId)
      .where("fingerprint", "=", row.fingerprint)
      .executeTakeFirst();
    if (existing) throw new TesseraError("conflict", `This CA is already trusted (id ${existing.id})`);
    // Every certificate login may have to try an org's CAs: their number is bounded.
    const { count } = await trx
      .selectFrom("trusted_cas")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("org_id", "=", orgId)
      .executeTakeFirstOrThrow();
    if (Number(count) >= ctx.config.trustedCaLimit) {
      throw new TesseraError(
        "trusted_ca_limit_reached",
        `This organisation already trusts ${ctx.config.trustedCaLimit} CAs (TESSERA_TRUSTED_CA_LIMIT); remove one first`,
      );
    }
    const inserted = await trx.insertInto("trusted_cas").values(row).returning("id").executeTakeFirstOrThrow();
    await recordAudit(trx, now, {
      type: "trusted_ca.added",
      orgId,
      actorUserId: principal.userId,
      data: { trustedCaId: inserted.id, subject: row.subject, fingerprint: row.fingerprint },
      ip,
    });
    return view({ id: inserted.id, ...row });
  });
}

/** Stops trusting a CA: the next handshake with a certificate under it is refused. 404 when unknown in this org. */
export async function removeTrustedCa(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  trustedCaId: number,
  ip: string,
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const removed = await trx
      .deleteFrom("trusted_cas")
      .where("id", "=", trustedCaId)
      .where("org_id", "=", orgId)
      .returning(["subject", "fingerprint"])
      .executeTakeFirst();
    if (!removed) throw new TesseraError("not_found", "No such trusted CA in this organisation");
    await recordAudit(trx, now, {
      type: "trusted_ca.removed",
      orgId,
      actorUserId: principal.userId,
      data: { trustedCaId, subject: removed.subject, fingerprint: removed.fingerprint },
      ip,
    });
  });
}
