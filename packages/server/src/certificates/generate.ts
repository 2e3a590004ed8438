// @peculiar/x509 needs a Reflect polyfill loaded before it; keep this import first.
import "reflect-metadata";
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

/**
 * Certificate generation for the dev CA, `tessera certs` and tests only. Checking
 * certificates never uses this library: that is node's own X509Certificate and TLS code.
 */

const rsaAlgorithm = {
  name: "RSASSA-PKCS1-v1_5",
  hash: "SHA-256",
  publicExponent: new Uint8Array([1, 0, 1]),
} as const;

export type KeyPair = webcrypto.CryptoKeyPair;

export async function generateRsaKeyPair(bits: number): Promise<KeyPair> {
  return webcrypto.subtle.generateKey({ ...rsaAlgorithm, modulusLength: bits }, true, ["sign", "verify"]);
}

export async function generateEcKeyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
}

export async function exportPrivateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

/** Imports a PKCS#8 PEM RSA private key (as written by exportPrivateKeyPem) for signing certificates. */
export async function importRsaPrivateKeyPem(pem: string): Promise<webcrypto.CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, rsaAlgorithm, true, ["sign"]);
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** Valid from a minute ago (clock skew) for `days` days. */
export function validFor(days: number, from = Date.now()): Validity {
  return { notBefore: new Date(from - 60_000), notAfter: new Date(from + days * 86_400_000) };
}

function serialNumber(): string {
  // A positive 127-bit serial: the high bit of the first byte cleared.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

/** A self-signed certificate authority. */
export async function createCaCertificate(options: {
  keys: KeyPair;
  commonName: string;
  validity: Validity;
  /** basicConstraints pathLenConstraint; none by default. */
  pathLength?: number;
  /** A declared subjectKeyIdentifier (hex) instead of the one computed from the key (tests of look-alike CAs). */
  subjectKeyId?: string;
}): Promise<string> {
  const signingAlgorithm = signingAlgorithmFor(options.keys.privateKey);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${escapeDn(options.commonName)}`,
    ...options.validity,
    signingAlgorithm,
    keys: options.keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, options.pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      options.subjectKeyId === undefined
        ? await x509.SubjectKeyIdentifierExtension.create(options.keys.publicKey)
        : new x509.SubjectKeyIdentifierExtension(options.subjectKeyId),
    ],
  });
  return `${certificate.toString("pem").trim()}\n`;
}

/** A leaf (client or server) or intermediate certificate signed by `issuer`. */
export async function issueCertificate(options: {
  issuerCertificatePem: string;
  issuerPrivateKey: webcrypto.CryptoKey;
  subjectPublicKey: webcrypto.CryptoKey;
  commonName: string;
  validity: Validity;
  usage: "client" | "server" | "ca";
  /** DNS names and IP addresses (server certificates). */
  altNames?: { dns?: string[]; ip?: string[] };
  /** A CA's pathLenConstraint; none by default. */
  pathLength?: number;
  /**
   * A client or server certificate marked basicConstraints CA:TRUE (the mistake of an
   * `openssl x509 -req` extension file that sets only basicConstraints and extendedKeyUsage),
   * or one without keyUsage: tests of path validation.
   */
  leafProfile?: { ca?: boolean; keyUsage?: boolean };
}): Promise<string> {
  const issuer = new x509.X509Certificate(options.issuerCertificatePem);
  const extensions: x509.Extension[] = [
    await x509.SubjectKeyIdentifierExtension.create(options.subjectPublicKey),
    await x509.AuthorityKeyIdentifierExtension.create(issuer),
  ];
  if (options.usage === "ca") {
    extensions.push(
      new x509.BasicConstraintsExtension(true, options.pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
  } else {
    const { ca = false, keyUsage = true } = options.leafProfile ?? {};
    extensions.push(new x509.BasicConstraintsExtension(ca, undefined, true));
    if (keyUsage) {
      extensions.push(
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      );
    }
    extensions.push(
      new x509.ExtendedKeyUsageExtension(
        [options.usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
    );
  }
  const names = [
    ...(options.altNames?.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(options.altNames?.ip ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${escapeDn(options.commonName)}`,
    issuer: issuer.subject,
    ...options.validity,
    signingAlgorithm: signingAlgorithmFor(options.issuerPrivateKey),
    publicKey: options.subjectPublicKey,
    signingKey: options.issuerPrivateKey,
    extensions,
  });
  return `${certificate.toString("pem").trim()}\n`;
}

function signingAlgorithmFor(key: webcrypto.CryptoKey): Algorithm | EcdsaParams {
  return key.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : rsaAlgorithm;
}

type Algorithm = { name: string };
type EcdsaParams = { name: string; hash: string };

/** Escapes RFC 4514 special characters in a CN value. */
function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=#])/g, "\\$1");
}
