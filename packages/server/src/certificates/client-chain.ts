import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import { TesseraError } from "../errors/tessera-error.ts";

/** What a client presented in its TLS handshake, parsed by node's own X.509 code. */
export interface PresentedCertificate {
  leaf: X509Certificate;
  /** The subject CN as node's TLS layer parsed it; undefined when absent or repeated. */
  commonName: string | undefined;
  /** The other certificates the client sent (candidate intermediates), leaf excluded. */
  others: X509Certificate[];
}

/** A CA some org trusts, parsed. */
export interface TrustAnchor {
  orgId: number;
  fingerprint: string;
  certificate: X509Certificate;
}

/** The chain from the leaf up to (and including) the highest trusted CA on it, and who trusts it. */
export interface VerifiedChain {
  path: X509Certificate[];
  /**
   * Issuers the client sent above the highest trusted CA (when an org trusts an intermediate):
   * not needed for trust, but the key-size rule names the root, so they are checked too.
   */
  above: X509Certificate[];
  trustingOrgIds: number[];
}

/** Chains longer than this are refused as untrusted rather than walked. */
const maxChainLength = 8;
export const minimumRsaBits = 4096;

/** Reads the peer's certificates; the handshake itself never rejects them (rejectUnauthorized: false). */
export function readPresentedCertificate(socket: TLSSocket): PresentedCertificate | undefined {
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) return undefined;
  const leaf = new X509Certificate(peer.raw);
  const others: X509Certificate[] = [];
  const seen = new Set([leaf.fingerprint256]);
  let next = peer.issuerCertificate;
  // Node links the last certificate to itself; the seen-set also stops any other loop.
  while (next?.raw && others.length < maxChainLength) {
    const certificate = new X509Certificate(next.raw);
    if (seen.has(certificate.fingerprint256)) break;
    seen.add(certificate.fingerprint256);
    others.push(certificate);
    next = next.issuerCertificate;
  }
  const cn = peer.subject?.CN;
  return { leaf, commonName: typeof cn === "string" && cn !== "" ? cn : undefined, others };
}

/**
 * Whether `issuer`'s key signed `subject` under its name. Whether the issuer may issue at all
 * (basic constraints, path length) is judged afterwards by validateClientPath, so that each
 * broken rule gets its own reason instead of "untrusted". (node's checkIssued, like its
 * assembly of the peer's chain, already passes over an issuer whose keyUsage lacks keyCertSign.)
 */
function isIssuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/**
 * Builds the path leaf → … → trusted CA from the presented certificates and the anchors,
 * checking each signature with node's X509Certificate. 401 certificate_untrusted when no
 * anchor is reached.
 */
export function buildTrustedChain(presented: PresentedCertificate, anchors: readonly TrustAnchor[]): VerifiedChain {
  const path: X509Certificate[] = [presented.leaf];
  const trustingOrgIds = new Set<number>();
  let trustedLength = 0;
  let current = presented.leaf;
  while (path.length <= maxChainLength) {
    const anchorIssuers = anchors.filter((anchor) => isIssuedBy(current, anchor.certificate));
    const issuer =
      anchorIssuers[0]?.certificate ??
      presented.others.find((candidate) => !path.includes(candidate) && isIssuedBy(current, candidate));
    if (!issuer) break;
    // A self-signed certificate ends the walk once it is on the path.
    if (issuer.fingerprint256 === current.fingerprint256) break;
    path.push(issuer);
    const matching = anchors.filter((anchor) => anchor.fingerprint === issuer.fingerprint256);
    if (matching.length > 0) {
      for (const anchor of matching) trustingOrgIds.add(anchor.orgId);
      trustedLength = path.length;
    }
    current = issuer;
  }
  if (trustedLength === 0) {
    throw new TesseraError("certificate_untrusted");
  }
  return { path: path.slice(0, trustedLength), above: path.slice(trustedLength), trustingOrgIds: [...trustingOrgIds] };
}

/** 401 when any certificate of the path is outside its validity period at `now` (Unix ms). */
export function checkValidity(path: readonly X509Certificate[], now: number): void {
  for (const [index, certificate] of path.entries()) {
    const which = index === 0 ? "The client certificate" : `The CA certificate "${certificate.subject}"`;
    if (now > certificate.validToDate.getTime()) {
      throw new TesseraError("certificate_expired", `${which} expired at ${certificate.validToDate.toISOString()}`);
    }
    if (now < certificate.validFromDate.getTime()) {
      throw new TesseraError(
        "certificate_not_yet_valid",
        `${which} is valid from ${certificate.validFromDate.toISOString()}`,
      );
    }
  }
}

/** 403 unless every certificate of the path, the leaf and its root included, is RSA of at least 4096 bits. */
export function checkKeyStrength(path: readonly X509Certificate[]): void {
  for (const [index, certificate] of path.entries()) {
    const key = certificate.publicKey;
    const bits = key.asymmetricKeyDetails?.modulusLength;
    const isRsa = key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss";
    if (!isRsa || bits === undefined || bits < minimumRsaBits) {
      const which = index === 0 ? "client certificate" : index === path.length - 1 ? "root" : "intermediate";
      const found = isRsa ? `RSA ${bits ?? "?"} bits` : `${key.asymmetricKeyType ?? "unknown"} key`;
      throw new TesseraError(
        "certificate_key_too_weak",
        `The ${which} has a ${found}; RSA of at least ${minimumRsaBits} bits is required`,
      );
    }
  }
}

const pemCertificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Parses exactly one PEM certificate (text around it, as `openssl x509 -text` prints, is
 * ignored); 400 invalid_certificate when there is none or more than one, since keeping only
 * the first of a bundle would silently drop the others.
 */
export function parseCertificatePem(pem: string): X509Certificate {
  const [block, ...more] = pem.match(pemCertificateBlock) ?? [];
  if (block === undefined) {
    throw new TesseraError("invalid_certificate", "Expected one PEM certificate (-----BEGIN CERTIFICATE-----)");
  }
  if (more.length > 0) {
    throw new TesseraError(
      "invalid_certificate",
      `Expected one PEM certificate, found ${more.length + 1}; add each certificate on its own`,
    );
  }
  try {
    return new X509Certificate(block);
  } catch {
    throw new TesseraError("invalid_certificate", "The PEM does not decode to an X.509 certificate");
  }
}
