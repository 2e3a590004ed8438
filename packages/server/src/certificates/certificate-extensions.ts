import { createHash, type X509Certificate } from "node:crypto";

/**
 * The X.509 v3 extensions path validation needs and node's X509Certificate does not expose
 * (pathLenConstraint, keyUsage bits, key identifiers), read from the DER node already parsed.
 * A small reader rather than @peculiar/x509: the library that makes the tests' certificates
 * must not also be the one that judges them, and checking stays free of its polyfill.
 */
export interface CertificateExtensions {
  /** basicConstraints: absent when the certificate has no such extension. */
  basicConstraints: { ca: boolean; pathLength: number | undefined } | undefined;
  /** keyUsage bit names, absent when the certificate has no such extension. */
  keyUsage: ReadonlySet<KeyUsage> | undefined;
  /** extendedKeyUsage OIDs (dotted), absent when the certificate has no such extension. */
  extendedKeyUsage: readonly string[] | undefined;
  /** subjectKeyIdentifier as the certificate declares it (lower-case hex). */
  subjectKeyId: string | undefined;
  /** authorityKeyIdentifier's keyIdentifier (lower-case hex): what the issuer's key id should be. */
  authorityKeyId: string | undefined;
  /** SHA-1 of the subject public key bits (RFC 5280 §4.2.1.2, method 1), computed, never declared. */
  computedKeyId: string;
}

export type KeyUsage =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";

const keyUsageBits: readonly KeyUsage[] = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
];

export const clientAuthOid = "1.3.6.1.5.5.7.3.2";

/** The certificate's DER could not be read as RFC 5280 describes it (or repeats an extension). */
export class UnreadableCertificateError extends Error {}

interface Tlv {
  tag: number;
  /** Offset of the content. */
  start: number;
  /** Offset just past the content. */
  end: number;
}

function fail(what: string): never {
  throw new UnreadableCertificateError(`Unreadable certificate: ${what}`);
}

/** One DER tag-length-value at `offset`, bounded by `limit`. */
function readTlv(der: Buffer, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) fail("truncated");
  const tag = der[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) fail("multi-byte tag");
  let length = der[offset + 1] ?? 0;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) fail("bad length");
    length = 0;
    for (let index = 0; index < bytes; index++) length = length * 256 + (der[start + index] ?? 0);
    start += bytes;
  }
  const end = start + length;
  if (end > limit) fail("length beyond its container");
  return { tag, start, end };
}

/** The TLVs directly inside `container`. */
function children(der: Buffer, container: Tlv): Tlv[] {
  const found: Tlv[] = [];
  for (let offset = container.start; offset < container.end; ) {
    const child = readTlv(der, offset, container.end);
    found.push(child);
    offset = child.end;
  }
  return found;
}

function expect(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) fail(`expected ${what}`);
  return tlv;
}

function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) fail("empty OID");
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join(".");
}

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const BOOLEAN = 0x01;
const INTEGER = 0x02;
const OID = 0x06;

const byCertificate = new WeakMap<X509Certificate, CertificateExtensions>();

/** Reads (once per certificate object) the extensions path validation needs. Throws UnreadableCertificateError. */
export function readExtensions(certificate: X509Certificate): CertificateExtensions {
  const cached = byCertificate.get(certificate);
  if (cached) return cached;
  const der = certificate.raw;
  const outer = expect(readTlv(der, 0, der.length), SEQUENCE, "Certificate");
  const tbs = expect(children(der, outer)[0], SEQUENCE, "TBSCertificate");
  const fields = children(der, tbs);
  // version [0] is optional; then serial, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const base = fields[0]?.tag === 0xa0 ? 1 : 0;
  const spki = expect(fields[base + 5], SEQUENCE, "SubjectPublicKeyInfo");
  const keyBits = expect(children(der, spki)[1], BIT_STRING, "subjectPublicKey");
  const extensions: CertificateExtensions = {
    basicConstraints: undefined,
    keyUsage: undefined,
    extendedKeyUsage: undefined,
    subjectKeyId: undefined,
    authorityKeyId: undefined,
    computedKeyId: createHash("sha1")
      .update(der.subarray(keyBits.start + 1, keyBits.end))
      .digest("hex"),
  };
  const wrapper = fields.slice(base + 6).find((field) => field.tag === 0xa3);
  const seen = new Set<string>();
  for (const extension of wrapper ? children(der, expect(children(der, wrapper)[0], SEQUENCE, "Extensions")) : []) {
    const [idTlv, second, third] = children(der, expect(extension, SEQUENCE, "Extension"));
    const oid = decodeOid(der.subarray(expect(idTlv, OID, "extnID").start, idTlv?.end));
    // RFC 5280 §4.2: an extension appears at most once; two answers would be ambiguous.
    if (seen.has(oid)) fail(`extension ${oid} appears twice`);
    seen.add(oid);
    const valueTlv = expect(second?.tag === BOOLEAN ? third : second, OCTET_STRING, "extnValue");
    const value = readTlv(der, valueTlv.start, valueTlv.end);
    if (value.end !== valueTlv.end) fail(`trailing bytes in extension ${oid}`);
    readExtension(der, oid, value, extensions);
  }
  byCertificate.set(certificate, extensions);
  return extensions;
}

function readExtension(der: Buffer, oid: string, value: Tlv, into: CertificateExtensions): void {
  switch (oid) {
    case "2.5.29.19": {
      // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL }
      const parts = children(der, expect(value, SEQUENCE, "BasicConstraints"));
      let index = 0;
      let ca = false;
      if (parts[index]?.tag === BOOLEAN) {
        ca = (der[parts[index]?.start ?? 0] ?? 0) !== 0;
        index++;
      }
      let pathLength: number | undefined;
      const length = parts[index];
      if (length) {
        expect(length, INTEGER, "pathLenConstraint");
        const bytes = der.subarray(length.start, length.end);
        if (bytes.length === 0 || bytes.length > 4 || (bytes[0] ?? 0) & 0x80) fail("pathLenConstraint out of range");
        pathLength = bytes.reduce((total, byte) => total * 256 + byte, 0);
      }
      into.basicConstraints = { ca, pathLength };
      return;
    }
    case "2.5.29.15": {
      // KeyUsage ::= BIT STRING; bit 0 (digitalSignature) is the high bit of the first byte.
      const bits = expect(value, BIT_STRING, "KeyUsage");
      const bytes = der.subarray(bits.start + 1, bits.end);
      const names = new Set<KeyUsage>();
      keyUsageBits.forEach((name, bit) => {
        if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) names.add(name);
      });
      into.keyUsage = names;
      return;
    }
    case "2.5.29.37": {
      // ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId
      const purposes = children(der, expect(value, SEQUENCE, "ExtKeyUsageSyntax"));
      into.extendedKeyUsage = purposes.map((purpose) =>
        decodeOid(der.subarray(expect(purpose, OID, "KeyPurposeId").start, purpose.end)),
      );
      return;
    }
    case "2.5.29.14": {
      const id = expect(value, OCTET_STRING, "SubjectKeyIdentifier");
      into.subjectKeyId = der.subarray(id.start, id.end).toString("hex");
      return;
    }
    case "2.5.29.35": {
      // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … }
      const keyId = children(der, expect(value, SEQUENCE, "AuthorityKeyIdentifier")).find((part) => part.tag === 0x80);
      if (keyId) into.authorityKeyId = der.subarray(keyId.start, keyId.end).toString("hex");
      return;
    }
  }
}
