import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

const cliEntry = fileURLToPath(new URL("../src/main.ts", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `tessera …` in its own process, without blocking this one (the server lives here). */
function tessera(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const { TESSERA_PASSWORD: _password, TESSERA_TOKEN: _token, ...inherited } = process.env;
    execFile(
      process.execPath,
      ["--import", "tsx", cliEntry, ...args],
      { env: { ...inherited, ...env }, encoding: "utf8", timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("tessera login and tessera token", { concurrency: true }, () => {
  let server: TestInstance;
  let dir: string;
  before(async () => {
    server = await startTestInstance();
    dir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs in with TESSERA_PASSWORD and prints a working token as JSON", async () => {
    const run = await tessera(
      ["login", "--server", server.baseUrl, "--email", adminEmail, "--org", String(server.orgId)],
      {
        TESSERA_PASSWORD: adminPassword,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout);
    assert.equal(printed.tokenType, "Bearer");
    assert.equal(printed.server, server.baseUrl);
    assert.equal(printed.orgId, server.orgId);
    assert.equal(printed.expiresAt, Math.floor(server.clock.now() / 1000) + 900);
    assert.equal((await server.request("/user/users/me", { token: printed.token })).status, 200);
  });

  it("saves the token with mode 0600, shows it with token info and renews it in place", async () => {
    const file = join(dir, "session.json");
    const login = await tessera(["login", "--server", server.baseUrl, "--email", adminEmail, "--save", file], {
      TESSERA_PASSWORD: adminPassword,
    });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    assert.ok(!login.stdout.includes(saved.token) && !login.stderr.includes(saved.token), "the token is not printed");

    const info = await tessera(["token", "info", "--server", server.baseUrl, "--token-file", file]);
    assert.equal(info.code, 0, info.stderr);
    const me = JSON.parse(info.stdout);
    assert.equal(me.email, adminEmail);
    assert.equal(me.currentOrg.id, server.orgId);
    assert.equal(me.authenticatedWith, "session");

    const renew = await tessera(["token", "renew", "--server", server.baseUrl, "--token-file", file]);
    assert.equal(renew.code, 0, renew.stderr);
    const renewed = JSON.parse(readFileSync(file, "utf8"));
    assert.notEqual(renewed.token, saved.token);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal((await server.request("/user/users/me", { token: renewed.token })).status, 200);
  });

  it("reads the token from TESSERA_TOKEN when no file is given", async () => {
    const token = await server.login();
    const info = await tessera(["token", "info", "--server", server.baseUrl], { TESSERA_TOKEN: token });
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).email, adminEmail);
  });

  it("logs in with an API key from the environment, and token info uses it", async () => {
    const adminToken = await server.login();
    const me = await server.request("/user/users/me", { token: adminToken });
    const created = await server.request("/user/apiKey", {
      token: adminToken,
      body: { orgUserId: me.body.orgUserId, name: "cli" },
    });
    const file = join(dir, "key.json");
    const login = await tessera(["login", "--server", server.baseUrl, "--api-key-env", "MY_KEY", "--save", file], {
      MY_KEY: created.body.apiKey,
    });
    assert.equal(login.code, 0, login.stderr);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(saved.tokenType, "ApiKey");
    assert.equal(saved.expiresAt, null);
    const info = await tessera(["token", "info", "--token-file", file]);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).authenticatedWith, "apiKey");
    const renew = await tessera(["token", "renew", "--token-file", file]);
    assert.equal(renew.code, 2);
    assert.match(renew.stderr, /API keys do not expire/);
  });

  it("reports a wrong password by its code, exit 1, without echoing the password", async () => {
    const run = await tessera(["login", "--server", server.baseUrl, "--email", adminEmail], {
      TESSERA_PASSWORD: "definitely-wrong-password",
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^tessera: invalid_credentials/);
    assert.ok(!run.stderr.includes("definitely-wrong-password") && !run.stdout.includes("definitely-wrong-password"));
  });

  it("reports a revoked token on renew by its code, exit 1, and leaves the file as it was", async () => {
    const file = join(dir, "revoked.json");
    await tessera(["login", "--server", server.baseUrl, "--email", adminEmail, "--save", file], {
      TESSERA_PASSWORD: adminPassword,
    });
    const before = readFileSync(file, "utf8");
    const { token } = JSON.parse(before);
    assert.equal((await server.request("/user/authenticate", { method: "DELETE", token })).status, 204);
    const renew = await tessera(["token", "renew", "--token-file", file]);
    assert.equal(renew.code, 1);
    assert.match(renew.stderr, /^tessera: invalid_token/);
    assert.equal(readFileSync(file, "utf8"), before);
  });

  it("refuses to log in without a password when none can be asked for (exit 2)", async () => {
    const run = await tessera(["login", "--server", server.baseUrl, "--email", adminEmail]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /TESSERA_PASSWORD/);
  });
});
