import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import SQLite from "better-sqlite3";

const repositoryRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const tesseraBin = join(repositoryRoot, "packages/cli/bin/tessera.js");

/** The environment of a `tessera serve` child: nothing inherited that configures Tessera. */
function childEnvironment(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("TESSERA_") && name !== "DATABASE_URL") env[name] = value;
  }
  return {
    ...env,
    // Every listener on a free port, so parallel test files never collide.
    TESSERA_HTTP_ADDR: "127.0.0.1:0",
    TESSERA_POD_MTLS_ADDR: "127.0.0.1:0",
    TESSERA_KM_MTLS_ADDR: "127.0.0.1:0",
    TESSERA_LOG_LEVEL: "warn",
    ...settings,
  };
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Spawns the real CLI, as `npm start` does: the `tessera` launcher, `tessera serve`. */
function spawnServe(settings: Record<string, string>, args: string[] = []): Running {
  const child = spawn(process.execPath, [tesseraBin, "serve", ...args], {
    cwd: repositoryRoot,
    env: childEnvironment(settings),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits until stdout has a line matching `pattern` (or the process exits, which fails). */
async function waitForLine(running: Running, pattern: RegExp): Promise<RegExpExecArray> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = pattern.exec(running.stdout());
    if (match) return match;
    if (running.child.exitCode !== null) {
      assert.fail(`tessera exited (${running.child.exitCode}): ${running.stdout()} ${running.stderr()}`);
    }
    if (Date.now() > deadline) assert.fail(`no line ${pattern} in: ${running.stdout()} ${running.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill("SIGTERM");
  return running.exited;
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: { code?: string } }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : {} };
}

describe("tessera serve (the real CLI)", () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), "tessera-cli-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("creates the data dir and database on first start, prints a one-time password once, and reuses them", async () => {
    const dataDir = join(root, "first-start", "data");
    assert.equal(existsSync(dataDir), false);

    const first = spawnServe({ TESSERA_DATA_DIR: dataDir });
    let oneTimePassword: string;
    let url: string;
    try {
      url = (await waitForLine(first, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] ?? "";
      oneTimePassword = (await waitForLine(first, /One-time password \(shown only now\): (\S+)/))[1] ?? "";
      await waitForLine(first, /^Log in: /m);
      assert.match(first.stdout(), /admin@tessera\.local/);
      assert.ok(existsSync(join(dataDir, "tessera.db")), "the SQLite file exists");
      const expired = await postJson(`${url}/user/authenticate`, {
        email: "admin@tessera.local",
        password: oneTimePassword,
      });
      assert.equal(expired.status, 401);
      assert.equal(expired.body.code, "password_expired");
      const changed = await postJson(`${url}/user/password`, {
        email: "admin@tessera.local",
        currentPassword: oneTimePassword,
        newPassword: "an operator's own password",
      });
      assert.equal(changed.status, 204);
      const login = await postJson(`${url}/user/authenticate`, {
        email: "admin@tessera.local",
        password: "an operator's own password",
      });
      assert.equal(login.status, 200);
    } finally {
      assert.equal(await stop(first), 0);
    }

    const database = new SQLite(join(dataDir, "tessera.db"), { readonly: true });
    try {
      assert.equal(database.pragma("journal_mode", { simple: true }), "wal");
      const users = database.prepare("select email, password_hash from users").all() as {
        email: string;
        password_hash: string;
      }[];
      assert.deepEqual(
        users.map((user) => user.email),
        ["admin@tessera.local"],
      );
      assert.ok(!users[0]?.password_hash.includes(oneTimePassword));
    } finally {
      database.close();
    }

    const second = spawnServe({ TESSERA_DATA_DIR: dataDir });
    try {
      url = (await waitForLine(second, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] ?? "";
      await waitForLine(second, /^Store: SQLite at /m);
      assert.doesNotMatch(second.stdout(), /One-time password/);
      assert.doesNotMatch(second.stdout(), /First start/);
      const login = await postJson(`${url}/user/authenticate`, {
        email: "admin@tessera.local",
        password: "an operator's own password",
      });
      assert.equal(login.status, 200, "the first admin still exists, with the password it chose");
    } finally {
      assert.equal(await stop(second), 0);
    }
  });

  it("uses TESSERA_BOOTSTRAP_ADMIN_* instead of generated credentials, printing no password", async () => {
    const dataDir = join(root, "bootstrap-env");
    const running = spawnServe({
      TESSERA_DATA_DIR: dataDir,
      TESSERA_BOOTSTRAP_ADMIN_EMAIL: "root@example.com",
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD: "chosen by the operator",
    });
    try {
      const url = (await waitForLine(running, /listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] ?? "";
      await waitForLine(running, /^Log in: /m);
      assert.doesNotMatch(running.stdout(), /One-time password/);
      assert.doesNotMatch(running.stdout(), /chosen by the operator/);
      const login = await postJson(`${url}/user/authenticate`, {
        email: "root@example.com",
        password: "chosen by the operator",
      });
      assert.equal(login.status, 200);
    } finally {
      assert.equal(await stop(running), 0);
    }
  });

  // Each kind of source once (loadConfig's own tests cover every setting): environment, flag, file.
  it("exits non-zero, naming the setting, for a bad value from each source", async () => {
    const configFile = join(root, "typo.json");
    writeFileSync(configFile, JSON.stringify({ logLevl: "debug" }));
    const cases: { settings: Record<string, string>; args?: string[]; names: RegExp }[] = [
      { settings: { TESSERA_HTTP_ADDR: "localhost" }, names: /TESSERA_HTTP_ADDR/ },
      { settings: { DATABASE_URL: "mysql://db/tessera" }, names: /DATABASE_URL/ },
      { settings: {}, args: ["--http-adr", "127.0.0.1:0"], names: /--http-adr/ },
      { settings: { TESSERA_CONFIG: configFile }, names: /logLevl/ },
    ];
    await Promise.all(
      cases.map(async ({ settings, args, names }) => {
        const running = spawnServe({ TESSERA_DATA_DIR: join(root, "never-created"), ...settings }, args);
        const code = await running.exited;
        assert.notEqual(code, 0, names.source);
        assert.notEqual(code, null, names.source);
        assert.match(running.stderr(), names);
        assert.doesNotMatch(running.stderr(), /\n\s+at /, "a message, not a stack trace");
      }),
    );
    assert.equal(existsSync(join(root, "never-created")), false, "a bad setting stops before anything is created");
  });

  describe("start-up failures that only show at run time", () => {
    let blocker: Server;
    let blockedPort: number;
    before(async () => {
      blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      const address = blocker.address();
      blockedPort = typeof address === "object" && address ? address.port : 0;
    });
    after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

    it("names TESSERA_HTTP_ADDR when the port is taken", async () => {
      const running = spawnServe({
        TESSERA_DATA_DIR: join(root, "port-taken"),
        TESSERA_HTTP_ADDR: `127.0.0.1:${blockedPort}`,
      });
      assert.equal(await running.exited, 2);
      assert.match(running.stderr(), /TESSERA_HTTP_ADDR: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);
    });

    it("names TESSERA_DATA_DIR when the data directory cannot be created", async () => {
      const file = join(root, "a-file");
      writeFileSync(file, "not a directory");
      const running = spawnServe({ TESSERA_DATA_DIR: join(file, "data") });
      assert.equal(await running.exited, 2);
      assert.match(running.stderr(), /TESSERA_DATA_DIR: cannot create /);
    });
  });
});
