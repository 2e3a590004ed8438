import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureServerTls } from "../../src/certificates/dev-tls.ts";
import { ConfigError } from "../../src/config/config.ts";

/** TESSERA_TLS_CERT / TESSERA_TLS_KEY: a bad file stops start-up naming the setting (contract §7). */
describe("the operator's server certificate", () => {
  let dir: string;
  let tls: { certPath: string; keyPath: string };
  let otherKeyPath: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-operator-tls-"));
    // A certificate and key as an operator brings them: the dev ones of another data directory.
    const made = await ensureServerTls(
      { dataDir: join(dir, "a"), tlsCert: undefined, tlsKey: undefined },
      { caBits: 2048 },
    );
    const other = await ensureServerTls(
      { dataDir: join(dir, "b"), tlsCert: undefined, tlsKey: undefined },
      { caBits: 2048 },
    );
    tls = { certPath: made.certPath, keyPath: made.keyPath };
    otherKeyPath = other.keyPath;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function assertRefused(tlsCert: string, tlsKey: string, setting: string, reason: RegExp): Promise<void> {
    await assert.rejects(ensureServerTls({ dataDir: dir, tlsCert, tlsKey }), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.equal(error.setting, setting);
      assert.match(error.message, reason);
      return true;
    });
  }

  it("is used when both files are good", async () => {
    const used = await ensureServerTls({ dataDir: dir, tlsCert: tls.certPath, tlsKey: tls.keyPath });
    assert.equal(used.generated, false);
    assert.match(used.cert, /BEGIN CERTIFICATE/);
  });

  it("refuses a file that is not a certificate, a key that is not a key, and a key of another certificate", async () => {
    const garbage = join(dir, "garbage.pem");
    writeFileSync(garbage, "garbage\n");
    await assertRefused(garbage, tls.keyPath, "TESSERA_TLS_CERT", /not a PEM certificate/);
    await assertRefused(tls.certPath, garbage, "TESSERA_TLS_KEY", /not a PEM private key/);
    await assertRefused(tls.certPath, otherKeyPath, "TESSERA_TLS_KEY", /does not belong/);
    await assertRefused(join(dir, "missing.pem"), tls.keyPath, "TESSERA_TLS_CERT", /cannot read/);
  });
});
