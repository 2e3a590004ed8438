import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config/config.ts";
import type { TlsServerOptions } from "../http/create-fastify.ts";
import {
  createCaCertificate,
  exportPrivateKeyPem,
  generateRsaKeyPair,
  importRsaPrivateKeyPem,
  issueCertificate,
  validFor,
} from "./generate.ts";

/** Where the dev CA and server certificate live (contract §7). */
export function devTlsPaths(dataDir: string) {
  const dir = join(dataDir, "tls");
  return {
    dir,
    caCert: join(dir, "ca.pem"),
    caKey: join(dir, "ca.key"),
    serverCert: join(dir, "server.pem"),
    serverKey: join(dir, "server.key"),
    clientsDir: join(dir, "clients"),
  };
}

export interface DevCa {
  certificatePem: string;
  privateKeyPem: string;
  certPath: string;
  keyPath: string;
  created: boolean;
}

/** The dev CA must satisfy the service-session rule itself: client certificates it signs need an RSA-4096 root. */
export const devCaBits = 4096;

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
}

/** Reads the dev CA from `<dataDir>/tls`, creating it (RSA-4096, ten years) on first use. */
export async function ensureDevCa(dataDir: string, options: { bits?: number } = {}): Promise<DevCa> {
  const paths = devTlsPaths(dataDir);
  if (existsSync(paths.caCert) && existsSync(paths.caKey)) {
    return {
      certificatePem: readFileSync(paths.caCert, "utf8"),
      privateKeyPem: readFileSync(paths.caKey, "utf8"),
      certPath: paths.caCert,
      keyPath: paths.caKey,
      created: false,
    };
  }
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const keys = await generateRsaKeyPair(options.bits ?? devCaBits);
  const certificatePem = await createCaCertificate({
    keys,
    commonName: "Tessera development CA",
    validity: validFor(3650),
  });
  const privateKeyPem = await exportPrivateKeyPem(keys.privateKey);
  writeSecret(paths.caKey, privateKeyPem);
  writeFileSync(paths.caCert, certificatePem);
  return { certificatePem, privateKeyPem, certPath: paths.caCert, keyPath: paths.caKey, created: true };
}

export interface ServerTls extends TlsServerOptions {
  certPath: string;
  keyPath: string;
  /** Set when the dev CA signed the server certificate: clients verify the server with it. */
  caPath: string | undefined;
  generated: boolean;
}

/**
 * The mTLS listeners' server certificate: the operator's (TESSERA_TLS_CERT and
 * TESSERA_TLS_KEY) or, without them, a dev one for localhost and 127.0.0.1 signed by the dev
 * CA, written on the first start and reused later.
 */
export async function ensureServerTls(
  config: { dataDir: string; tlsCert: string | undefined; tlsKey: string | undefined },
  options: { caBits?: number } = {},
): Promise<ServerTls> {
  if (config.tlsCert !== undefined || config.tlsKey !== undefined) {
    if (config.tlsCert === undefined) throw new ConfigError("TESSERA_TLS_CERT", "is required with TESSERA_TLS_KEY");
    if (config.tlsKey === undefined) throw new ConfigError("TESSERA_TLS_KEY", "is required with TESSERA_TLS_CERT");
    const cert = readSetting("TESSERA_TLS_CERT", config.tlsCert);
    const key = readSetting("TESSERA_TLS_KEY", config.tlsKey);
    checkOperatorTls(cert, key);
    return {
      cert,
      key,
      certPath: config.tlsCert,
      keyPath: config.tlsKey,
      caPath: undefined,
      generated: false,
    };
  }
  const paths = devTlsPaths(config.dataDir);
  if (existsSync(paths.serverCert) && existsSync(paths.serverKey)) {
    return {
      cert: readFileSync(paths.serverCert, "utf8"),
      key: readFileSync(paths.serverKey, "utf8"),
      certPath: paths.serverCert,
      keyPath: paths.serverKey,
      caPath: existsSync(paths.caCert) ? paths.caCert : undefined,
      generated: false,
    };
  }
  const ca = await ensureDevCa(config.dataDir, options.caBits === undefined ? {} : { bits: options.caBits });
  // The server's own key is not subject to the 4096-bit client rule; 2048 keeps first start quick.
  const serverKeys = await generateRsaKeyPair(2048);
  const cert = await issueCertificate({
    issuerCertificatePem: ca.certificatePem,
    issuerPrivateKey: await importRsaPrivateKeyPem(ca.privateKeyPem),
    subjectPublicKey: serverKeys.publicKey,
    commonName: "localhost",
    validity: validFor(825),
    usage: "server",
    altNames: { dns: ["localhost"], ip: ["127.0.0.1"] },
  });
  const key = await exportPrivateKeyPem(serverKeys.privateKey);
  writeSecret(paths.serverKey, key);
  writeFileSync(paths.serverCert, cert);
  return { cert, key, certPath: paths.serverCert, keyPath: paths.serverKey, caPath: ca.certPath, generated: true };
}

/** Fails start-up naming the setting, rather than with OpenSSL's words at the first handshake. */
function checkOperatorTls(certPem: string, keyPem: string): void {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certPem);
  } catch (error) {
    throw new ConfigError("TESSERA_TLS_CERT", `is not a PEM certificate: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new ConfigError("TESSERA_TLS_KEY", `is not a PEM private key: ${(error as Error).message}`);
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new ConfigError("TESSERA_TLS_KEY", "does not belong to the certificate in TESSERA_TLS_CERT");
  }
}

function readSetting(setting: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(setting, `cannot read ${path}: ${(error as Error).message}`);
  }
}
