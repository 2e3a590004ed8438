import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureServerTls, loadConfig, serve } from "@tessera/server";
import { createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { mtlsRequest } from "@tessera/test-kit/mtls-client.ts";
import { runCerts } from "../src/commands/certs.ts";
import { runKeys } from "../src/commands/keys.ts";

const adminEmail = "ops@example.com";
const adminPassword = "a long bootstrap password";

describe("npm start's listeners, the dev CA and `tessera certs`", () => {
  let dataDir: string;
  const env = () => ({
    TESSERA_DATA_DIR: dataDir,
    TESSERA_HTTP_ADDR: "127.0.0.1:0",
    TESSERA_POD_MTLS_ADDR: "127.0.0.1:0",
    TESSERA_KM_MTLS_ADDR: "127.0.0.1:0",
    TESSERA_BOOTSTRAP_ADMIN_EMAIL: adminEmail,
    TESSERA_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    TESSERA_LOG_LEVEL: "silent",
  });

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("first start writes the dev CA and server certificate, serves both mTLS listeners, and a certs-issued certificate opens a session", async () => {
    const banner: string[] = [];
    const server = await serve(loadConfig({ env: env() }), (line) => banner.push(line));
    try {
      const tls = join(dataDir, "tls");
      for (const file of ["ca.pem", "ca.key", "server.pem", "server.key"]) assert.ok(existsSync(join(tls, file)), file);
      assert.equal(statSync(join(tls, "ca.key")).mode & 0o777, 0o600);
      assert.equal(statSync(join(tls, "server.key")).mode & 0o777, 0o600);
      const ca = new X509Certificate(readFileSync(join(tls, "ca.pem")));
      assert.equal(ca.ca, true);
      assert.equal(ca.publicKey.asymmetricKeyDetails?.modulusLength, 4096);
      const serverCert = new X509Certificate(readFileSync(join(tls, "server.pem")));
      assert.equal(serverCert.subjectAltName, "DNS:localhost, IP Address:127.0.0.1");
      assert.ok(serverCert.checkIssued(ca));
      assert.ok(server.podMtlsUrl && server.kmMtlsUrl && server.httpUrl);
      assert.ok(banner.some((line) => line.includes(server.podMtlsUrl ?? "?")));
      assert.ok(banner.some((line) => line.includes("generated now")));

      const printed: string[] = [];
      assert.equal(
        await runCerts(["issue", "--cn", "cli-bot", "--data-dir", dataDir], (line) => printed.push(line)),
        0,
      );
      const certPath = join(tls, "clients", "cli-bot.pem");
      const keyPath = join(tls, "clients", "cli-bot.key");
      assert.ok(printed.some((line) => line.includes(certPath)));
      assert.equal(statSync(keyPath).mode & 0o777, 0o600);
      const client = new X509Certificate(readFileSync(certPath));
      assert.equal(client.subject, "CN=cli-bot");
      assert.equal(client.publicKey.asymmetricKeyDetails?.modulusLength, 4096);

      // The README's session: trust the CA, create the service user, authenticate with the certificate.
      const login = await fetch(`${server.httpUrl}/user/authenticate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: adminEmail, password: adminPassword }),
      });
      const { token, orgId } = (await login.json()) as { token: string; orgId: number };
      const trusted = await fetch(`${server.httpUrl}/admin/orgs/${orgId}/trusted-cas`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ pem: readFileSync(join(tls, "ca.pem"), "utf8") }),
      });
      assert.equal(trusted.status, 201);
      await createServiceUser(server, { orgId, username: "cli-bot" });
      const session = await mtlsRequest(`${server.podMtlsUrl}/sessionauth/v1/authenticate`, {
        ca: readFileSync(join(tls, "ca.pem"), "utf8"),
        cert: readFileSync(certPath, "utf8"),
        key: readFileSync(keyPath, "utf8"),
      });
      assert.equal(session.status, 200, session.text);
      assert.equal(session.body.name, "sessionToken");
      const km = await mtlsRequest(`${server.kmMtlsUrl}/keyauth/v1/authenticate`, {
        ca: readFileSync(join(tls, "ca.pem"), "utf8"),
        cert: readFileSync(certPath, "utf8"),
        key: readFileSync(keyPath, "utf8"),
      });
      assert.equal(km.status, 200, km.text);
    } finally {
      await server.close();
    }
  });

  it("later starts reuse the CA and server certificate", async () => {
    const before = readFileSync(join(dataDir, "tls", "server.pem"), "utf8");
    const banner: string[] = [];
    const server = await serve(loadConfig({ env: env() }), (line) => banner.push(line));
    await server.close();
    assert.equal(readFileSync(join(dataDir, "tls", "server.pem"), "utf8"), before);
    assert.ok(banner.some((line) => line.includes("(reused)")));
  });

  it("uses TESSERA_TLS_CERT and TESSERA_TLS_KEY when given, and names the missing half", async () => {
    const cert = join(dataDir, "tls", "server.pem");
    const key = join(dataDir, "tls", "server.key");
    const operator = await ensureServerTls({ dataDir: join(dataDir, "elsewhere"), tlsCert: cert, tlsKey: key });
    assert.equal(operator.cert, readFileSync(cert, "utf8"));
    assert.equal(operator.generated, false);
    await assert.rejects(ensureServerTls({ dataDir, tlsCert: cert, tlsKey: undefined }), (error: Error) =>
      error.message.startsWith("TESSERA_TLS_KEY"),
    );
  });

  it("`tessera certs ca` shows the existing CA; `tessera keys rotate` makes a new signing key", async () => {
    const printed: string[] = [];
    assert.equal(await runCerts(["ca", "--data-dir", dataDir], (line) => printed.push(line)), 0);
    assert.match(printed[0] ?? "", /^Using the dev CA: .*ca\.pem/);
    const rotated: string[] = [];
    assert.equal(await runKeys(["rotate", "--data-dir", dataDir], (line) => rotated.push(line)), 0);
    assert.match(rotated[0] ?? "", /^New signing key: \S+$/);
    assert.equal(await runCerts(["issue", "--data-dir", dataDir], () => {}), 2);
  });
});
