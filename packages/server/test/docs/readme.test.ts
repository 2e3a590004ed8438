import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { errorCodes } from "@tessera/protocol";
import { repositoryRoot, type SpawnedServer, spawnServer } from "@tessera/test-kit/spawn-server.ts";
import { settings } from "../../src/config/config.ts";

const readme = readFileSync(join(repositoryRoot, "README.md"), "utf8");

function section(text: string, name: string): string {
  const start = text.indexOf(`<!-- ${name}:start -->`);
  const end = text.indexOf(`<!-- ${name}:end -->`);
  assert.ok(start >= 0 && end > start, `README has a ${name} section`);
  return text.slice(start, end);
}

describe("README quick tour", () => {
  let server: SpawnedServer;
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "tessera-tour-"));
    // The same admin the tour's start command sets.
    server = await spawnServer({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_BOOTSTRAP_ADMIN_EMAIL: "admin@example.com",
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD: "correct horse battery staple",
    });
  });
  after(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs verbatim: login, call, renew, logout, then 401", async () => {
    const script = /```sh\n([\s\S]*?)```/.exec(section(readme, "tour"))?.[1] ?? "";
    assert.match(script, /http:\/\/127\.0\.0\.1:8080/);
    // The only change: the port this test's server listens on.
    const runnable = script.replaceAll("http://127.0.0.1:8080", server.httpUrl);
    const { stdout } = await promisify(execFile)("bash", ["-eu", "-o", "pipefail", "-c", runnable]);
    const lines = stdout.trim().split("\n");
    const me = JSON.parse(lines[0] ?? "");
    assert.equal(me.email, "admin@example.com");
    assert.deepEqual(me.currentOrg, { id: 1, name: "Default" });
    assert.deepEqual(JSON.parse(lines[1] ?? ""), [{ id: 1, name: "Default", role: "owner" }]);
    assert.equal(lines[2], "204");
    const afterLogout = JSON.parse(lines[3] ?? "");
    assert.equal(afterLogout.status, 401);
    assert.equal(afterLogout.code, "invalid_token");
  });

  it("runs the certificate session verbatim: certs, trust, service user, mTLS logins, use, logout", async () => {
    const script = /```sh\n([\s\S]*?)```/.exec(section(readme, "cert-tour"))?.[1] ?? "";
    assert.match(script, /--cert /);
    // The only changes: this test's ports and data directory.
    const runnable = script
      .replaceAll("http://127.0.0.1:8080", server.httpUrl)
      .replaceAll("https://127.0.0.1:8443", server.podMtlsUrl)
      .replaceAll("https://127.0.0.1:8444", server.kmMtlsUrl)
      .replaceAll("./data-tour", dataDir);
    const { stdout } = await promisify(execFile)("bash", ["-eu", "-o", "pipefail", "-c", runnable], {
      cwd: repositoryRoot,
    });
    const lines = stdout.trim().split("\n");
    const last = (from: number) => lines.slice(from);
    const [trusted, created, sessionInfo, idmToken, datafeed, logout, afterLogout] = last(-7);
    assert.deepEqual([trusted, created], ["201", "201"], stdout);
    const me = JSON.parse(sessionInfo ?? "");
    assert.equal(me.username, "my-bot");
    assert.equal(me.accountType, "SYSTEM");
    assert.equal(typeof me.id, "number");
    assert.equal(JSON.parse(idmToken ?? "").token_type, "Bearer");
    assert.match(JSON.parse(datafeed ?? "").id, /_f$/);
    assert.deepEqual(JSON.parse(logout ?? ""), { message: "success" });
    assert.equal(afterLogout, "401");
  });
});

describe("documentation stays complete", () => {
  it("lists every setting in the README's configuration table", () => {
    const table = section(readme, "settings");
    for (const spec of Object.values(settings)) {
      assert.ok(table.includes(`\`${spec.flag}\``), `README documents ${spec.flag}`);
      assert.ok(table.includes(`\`${spec.env}\``), `README documents ${spec.env}`);
    }
  });

  it("lists every error code with its status and title in docs/errors.md (npm run docs:errors)", () => {
    const errors = readFileSync(join(repositoryRoot, "docs/errors.md"), "utf8");
    for (const [code, { status, title }] of Object.entries(errorCodes)) {
      assert.ok(
        errors.includes(`| \`${code}\` | ${status} | ${title} |`),
        `docs/errors.md documents ${code} (${status})`,
      );
    }
  });
});
