import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  devTlsPaths,
  ensureDevCa,
  exportPrivateKeyPem,
  generateRsaKeyPair,
  importRsaPrivateKeyPem,
  issueCertificate,
  validFor,
} from "@tessera/server";
import { UsageError } from "./cli-errors.ts";

export const certsUsage = `Usage:
  tessera certs ca [--data-dir DIR]
      Create (first time) or show the dev CA at <data dir>/tls/ca.pem (RSA-4096).
  tessera certs issue --cn NAME [--bits 4096] [--days 365] [--out DIR] [--data-dir DIR]
      Issue a client certificate for the service user whose username is NAME, signed by the dev CA.
      Writes NAME.pem and NAME.key (mode 0600) to DIR (default <data dir>/tls/clients).
`;

type Print = (line: string) => void;

interface CertsOptions {
  dataDir: string;
  cn?: string;
  bits: number;
  days: number;
  out?: string;
}

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): CertsOptions {
  const options: CertsOptions = { dataDir: resolve(env.TESSERA_DATA_DIR || "./data"), bits: 4096, days: 365 };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? "";
    const [flag, inline] = argument.includes("=") ? argument.split(/=(.*)/s, 2) : [argument, undefined];
    const value = inline ?? argv[++index];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    switch (flag) {
      case "--data-dir":
        options.dataDir = resolve(value);
        break;
      case "--cn":
        options.cn = value;
        break;
      case "--out":
        options.out = resolve(value);
        break;
      case "--bits":
        options.bits = Number(value);
        if (![2048, 3072, 4096, 8192].includes(options.bits))
          throw new UsageError("--bits is 2048, 3072, 4096 or 8192");
        break;
      case "--days":
        options.days = Number(value);
        if (!Number.isInteger(options.days) || options.days < 1 || options.days > 3650) {
          throw new UsageError("--days is an integer between 1 and 3650");
        }
        break;
      default:
        throw new UsageError(`unknown option ${flag}`);
    }
  }
  return options;
}

/** `tessera certs …`: returns the exit code. */
export async function runCerts(
  argv: readonly string[],
  print: Print = (line) => process.stdout.write(`${line}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === "--help" || subcommand === "help") {
    print(certsUsage);
    return subcommand === undefined ? 2 : 0;
  }
  let options: CertsOptions;
  try {
    options = parse(rest, env);
    if (subcommand === "issue" && !options.cn) throw new UsageError("certs issue needs --cn NAME");
    if (subcommand !== "ca" && subcommand !== "issue") throw new UsageError(`unknown subcommand "${subcommand}"`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tessera certs: ${error.message}\n\n${certsUsage}`);
    return 2;
  }
  const ca = await ensureDevCa(options.dataDir);
  if (subcommand === "ca") {
    print(`${ca.created ? "Created" : "Using"} the dev CA: ${ca.certPath} (key ${ca.keyPath}, keep it private)`);
    print("Trust it in an org (as an org admin):");
    print(
      `  jq -Rs '{pem: .}' ${ca.certPath} | curl -s -X POST http://127.0.0.1:8080/admin/orgs/<orgId>/trusted-cas -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d @-`,
    );
    return 0;
  }
  const cn = options.cn ?? "";
  const keys = await generateRsaKeyPair(options.bits);
  const cert = await issueCertificate({
    issuerCertificatePem: ca.certificatePem,
    issuerPrivateKey: await importRsaPrivateKeyPem(ca.privateKeyPem),
    subjectPublicKey: keys.publicKey,
    commonName: cn,
    validity: validFor(options.days),
    usage: "client",
  });
  const outDir = options.out ?? devTlsPaths(options.dataDir).clientsDir;
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const safeName = cn.replace(/[^A-Za-z0-9._-]/g, "_");
  const certPath = join(outDir, `${safeName}.pem`);
  const keyPath = join(outDir, `${safeName}.key`);
  writeFileSync(keyPath, await exportPrivateKeyPem(keys.privateKey), { mode: 0o600 });
  writeFileSync(certPath, cert);
  print(`Client certificate for CN=${cn} (RSA-${options.bits}, ${options.days} days), signed by ${ca.certPath}:`);
  print(`  certificate: ${certPath}`);
  print(`  private key: ${keyPath}`);
  print("Authenticate (the CN must be the username of an active service user):");
  print(
    `  curl -s -X POST --cacert ${ca.certPath} --cert ${certPath} --key ${keyPath} https://localhost:8443/sessionauth/v1/authenticate`,
  );
  return 0;
}
