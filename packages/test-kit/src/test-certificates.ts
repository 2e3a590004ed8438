import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** A client certificate from a CA nobody trusts. */
  strangerCertPem: string;
  strangerKeyPem: string;
}

/**
 * Real certificates made at test time with openssl: a CA, a server certificate for 127.0.0.1
 * and a client certificate whose CN is `clientCn`, plus one signed by an untrusted CA. P-256
 * keys keep generation fast; the stand-in checks trust, not Tessera's RSA-4096 rule.
 */
export function createTestPki(clientCn: string): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "tessera-pki-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  try {
    const makeCa = (name: string) =>
      openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.pem`,
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
      );
    const issue = (name: string, ca: string, subject: string, extensions: string) => {
      openssl(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.csr`,
        "-subj",
        subject,
      );
      writeFileSync(join(dir, `${name}.ext`), extensions);
      openssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${ca}.pem`,
        "-CAkey",
        `${ca}.key`,
        "-CAcreateserial",
        "-out",
        `${name}.pem`,
        "-days",
        "1",
        "-extfile",
        `${name}.ext`,
      );
    };
    makeCa("ca");
    makeCa("stranger-ca");
    issue("server", "ca", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    issue("client", "ca", `/CN=${clientCn}`, "extendedKeyUsage=clientAuth\n");
    issue("stranger", "stranger-ca", `/CN=${clientCn}`, "extendedKeyUsage=clientAuth\n");
    const read = (file: string) => readFileSync(join(dir, file), "utf8");
    return {
      caPem: read("ca.pem"),
      serverCertPem: read("server.pem"),
      serverKeyPem: read("server.key"),
      clientCertPem: read("client.pem"),
      clientKeyPem: read("client.key"),
      strangerCertPem: read("stranger.pem"),
      strangerKeyPem: read("stranger.key"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
