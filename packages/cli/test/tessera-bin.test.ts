import assert from "node:assert/strict";
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createTestDatabase, type TestDatabase, testStore } from "@tessera/test-kit/test-database.ts";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const usageLine = "Usage: tessera <command> [options]";
const adminEmail = "packed-admin@example.com";
const adminPassword = "a long bootstrap password for the packed server";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A user's shell: nothing that configures Tessera, and none of the variables `npm run` adds. */
function shellEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith("TESSERA_") && !name.startsWith("npm_") && name !== "DATABASE_URL") env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs a command to its end and gives its exit status and output, whatever the status. */
function runCommand(file: string, args: string[], cwd: string, env = shellEnvironment()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, encoding: "utf8", timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `node` older than 22 on PATH (a machine's own, behind the Node 24 scripts/with-node.sh put first), if any. */
function findOldNode(): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(directory, "node");
    if (!directory || !existsSync(candidate)) continue;
    try {
      const major = execFileSync(candidate, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" });
      if (Number(major) < 22) return candidate;
    } catch {
      // Not a working node: look further.
    }
  }
  return undefined;
}

const oldNode = findOldNode();
const noOldNode = oldNode ? false : "no node older than 22 on PATH";
// Neither block needs a store of its own but the packed server's: the repository's checks run in the SQLite pass.
const storeIndependent = testStore === "postgres" ? "store-independent: run in the SQLite pass" : false;

describe("npx tessera in the repository", { skip: storeIndependent }, () => {
  it("is the workspace's bin, linked by npm ci (else npx would look for a package of that name)", () => {
    assert.equal(realpathSync(join(root, "node_modules/.bin/tessera")), join(root, "packages/cli/bin/tessera.js"));
  });

  for (const directory of [".", "docs", "packages/server"]) {
    it(`prints the usage and exits 0 from ${directory === "." ? "the root" : directory}`, async () => {
      const help = await runCommand("npx", ["tessera", "help"], join(root, directory));
      assert.equal(help.code, 0, help.stderr);
      assert.ok(help.stdout.startsWith(usageLine), help.stdout);
      const serve = await runCommand("npx", ["tessera", "serve", "--help"], join(root, directory));
      assert.equal(serve.code, 0, serve.stderr);
      assert.match(serve.stdout, /^Usage: tessera serve \[options\]\n[\s\S]*--data-dir\s+TESSERA_DATA_DIR/);
    });
  }

  it("exits 2 on an unknown command, with the usage on standard error", async () => {
    const run = await runCommand("npx", ["tessera", "no-such-command"], root);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.ok(run.stderr.startsWith(`tessera: unknown command "no-such-command"\n\n${usageLine}`), run.stderr);
  });

  it("starts from the Node that scripts/with-node.sh provides when the one on PATH is older than 22", {
    skip: noOldNode,
  }, async () => {
    const env = shellEnvironment({ PATH: `${dirname(oldNode ?? "")}${delimiter}${process.env.PATH ?? ""}` });
    const run = await runCommand(oldNode ?? "", [join(root, "packages/cli/bin/tessera.js"), "help"], root, env);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.stdout.startsWith(usageLine), run.stdout);
  });
});

/**
 * The command as a machine outside this repository gets it: `npm run pack:cli`, the tarballs
 * installed together into an empty project, `npx tessera` there. It serves on the run's store.
 */
describe("the packed tessera command", () => {
  let work: string;
  let project: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "tessera-packed-cli-"));
    project = join(work, "elsewhere");
    const packed = await runCommand(
      "npm",
      ["run", "--silent", "pack:cli", "--", "--out", join(work, "packages")],
      root,
      {
        ...process.env,
      },
    );
    assert.equal(packed.code, 0, packed.stderr);
    const tarballs = packed.stdout.trim().split("\n");
    assert.deepEqual(
      tarballs.map((path) => path.slice(path.lastIndexOf("/") + 1)),
      ["tessera-protocol-0.1.0.tgz", "tessera-client-0.1.0.tgz", "tessera-server-0.1.0.tgz", "tessera-cli-0.1.0.tgz"],
    );
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "elsewhere", private: true, type: "module" }));
    // Dependencies come from npm's cache, which `npm ci` filled; the registry only when missing.
    const installed = await runCommand(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs],
      project,
    );
    assert.equal(installed.code, 0, installed.stderr);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("installs real copies, not links into the repository, and only what the packages ship", () => {
    for (const name of ["cli", "server", "client", "protocol"]) {
      assert.ok(!lstatSync(join(project, "node_modules/@tessera", name)).isSymbolicLink(), name);
    }
    assert.ok(existsSync(join(project, "node_modules/@tessera/cli/bin/tessera.js")));
    assert.ok(!existsSync(join(project, "node_modules/@tessera/cli/test")));
    assert.ok(!existsSync(join(project, "node_modules/@tessera/server/test")));
  });

  it("prints the usage (exit 0) and refuses an unknown command (exit 2)", async () => {
    const help = await runCommand("npx", ["tessera", "help"], project);
    assert.equal(help.code, 0, help.stderr);
    assert.ok(help.stdout.startsWith(usageLine), help.stdout);
    const unknown = await runCommand("npx", ["tessera", "no-such-command"], project);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^tessera: unknown command "no-such-command"/);
  });

  it("serves, and its client commands log in, show and renew a token", async () => {
    const dataDir = join(work, "data");
    const database: TestDatabase | undefined = testStore === "postgres" ? await createTestDatabase() : undefined;
    const server: ChildProcess = spawn(join(project, "node_modules/.bin/tessera"), ["serve"], {
      cwd: project,
      env: shellEnvironment({
        TESSERA_DATA_DIR: dataDir,
        TESSERA_HTTP_ADDR: "127.0.0.1:0",
        TESSERA_POD_MTLS_ADDR: "127.0.0.1:0",
        TESSERA_KM_MTLS_ADDR: "127.0.0.1:0",
        TESSERA_LOG_LEVEL: "warn",
        TESSERA_BOOTSTRAP_ADMIN_EMAIL: adminEmail,
        TESSERA_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        ...(database ? { DATABASE_URL: database.url } : {}),
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    let output = "";
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const collect = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /Tessera is listening on (http:\/\/127\.0\.0\.1:[0-9]+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        };
        server.stdout?.on("data", collect);
        server.stderr?.on("data", collect);
        server.once("exit", (code) => reject(new Error(`tessera serve exited (${code}):\n${output}`)));
      });
      assert.match(output, database ? /^Store: PostgreSQL$/m : /^Store: SQLite at /m);
      const file = join(work, "session.json");
      const login = await runCommand(
        "npx",
        ["tessera", "login", "--server", url, "--email", adminEmail, "--save", file],
        project,
        shellEnvironment({ TESSERA_PASSWORD: adminPassword }),
      );
      assert.equal(login.code, 0, login.stderr);
      const saved = JSON.parse(readFileSync(file, "utf8"));
      assert.equal(saved.server, url);

      const info = await runCommand("npx", ["tessera", "token", "info", "--token-file", file], project);
      assert.equal(info.code, 0, info.stderr);
      assert.equal(JSON.parse(info.stdout).email, adminEmail);

      const renew = await runCommand("npx", ["tessera", "token", "renew", "--token-file", file], project);
      assert.equal(renew.code, 0, renew.stderr);
      assert.notEqual(JSON.parse(readFileSync(file, "utf8")).token, saved.token);
    } finally {
      server.kill("SIGTERM");
      assert.equal(await exited, 0, output);
      await database?.drop();
    }
  });

  it("tells a Node older than 22 which Node it needs (exit 1)", { skip: noOldNode }, async () => {
    const run = await runCommand(oldNode ?? "", [join(project, "node_modules/.bin/tessera"), "help"], project);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.match(
      run.stderr,
      /^tessera: Node\.js 22 or later is required \(Tessera runs on Node\.js 24 LTS\), but \S+ is v[0-9]+\./,
    );
  });
});
