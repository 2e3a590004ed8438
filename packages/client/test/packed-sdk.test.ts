import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The SDK as an integration outside this repository gets it: `npm run pack:sdk`, installed from
 * the tarballs into an empty project, imported by plain Node (no TypeScript loader) and
 * type-checked by a consumer's tsc.
 */
// It involves no store: the SQLite pass of `npm test` runs it, the PostgreSQL pass skips it.
const storeIndependent =
  process.env.TESSERA_TEST_STORE === "postgres" ? "store-independent: run in the SQLite pass" : false;

describe("the packed client SDK", { skip: storeIndependent }, () => {
  let work: string;
  let project: string;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), "tessera-packed-sdk-"));
    project = join(work, "integration");
    const { stdout } = await run("npm", ["run", "--silent", "pack:sdk", "--", "--out", join(work, "packages")], {
      cwd: root,
    });
    const tarballs = stdout.trim().split("\n");
    assert.equal(tarballs.length, 2, stdout);
    await run("mkdir", ["-p", project]);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "integration", private: true, type: "module" }),
    );
    // A Node project has @types/node (the repository's version, so npm's cache has it).
    const typesNode = `@types/node@${JSON.parse(readFileSync(join(root, "node_modules/@types/node/package.json"), "utf8")).version}`;
    // Dependencies come from npm's cache, which `npm ci` filled; the registry only when missing.
    await run(
      "npm",
      ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs, typesNode],
      {
        cwd: project,
      },
    );
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("imports as an ES module in plain Node, with every documented export", async () => {
    writeFileSync(
      join(project, "check.mjs"),
      `import * as sdk from "@tessera/client";
const names = ["UserSession", "ServiceSession", "DatafeedLoop", "tesseraFetch", "PasswordExpired", "AccountLocked", "OrgAccessDenied"];
console.log(JSON.stringify(names.filter((name) => typeof sdk[name] !== "function")));`,
    );
    const { stdout } = await run(process.execPath, ["check.mjs"], { cwd: project });
    assert.deepEqual(JSON.parse(stdout), [], "missing exports");
  });

  it("ships declaration files that a consumer's tsc checks, wrong uses refused", async () => {
    const compiler = join(root, "node_modules/typescript/bin/tsc");
    const options = [
      "--strict",
      "--noEmit",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--target",
      "es2023",
    ];
    writeFileSync(
      join(project, "good.ts"),
      `import { UserSession, type TesseraErrorCode } from "@tessera/client";
const code: TesseraErrorCode = "password_expired";
export async function start(): Promise<string> {
  const session = await UserSession.login({ baseUrl: "http://127.0.0.1:8080", email: "a@example.com", password: "p", selectedOrg: 1 });
  return session.token + code;
}`,
    );
    await run(process.execPath, [compiler, ...options, "good.ts"], { cwd: project });
    writeFileSync(
      join(project, "bad.ts"),
      `import type { TesseraErrorCode } from "@tessera/client";
const code: TesseraErrorCode = "no_such_code";
export { code };`,
    );
    await assert.rejects(run(process.execPath, [compiler, ...options, "bad.ts"], { cwd: project }), (error) => {
      assert.match(String((error as { stdout?: unknown }).stdout), /bad\.ts.*"no_such_code"/);
      return true;
    });
  });

  it("installs no server code: no @tessera/server, database driver or HTTP framework", () => {
    const installed = readdirSync(join(project, "node_modules"));
    for (const name of ["fastify", "better-sqlite3", "pg", "kysely", "@node-rs"]) {
      assert.ok(!installed.includes(name), `${name} was installed`);
    }
    assert.ok(!existsSync(join(project, "node_modules/@tessera/server")));
    assert.ok(!existsSync(join(project, "node_modules/@tessera/test-kit")));
    assert.ok(existsSync(join(project, "node_modules/@tessera/client/dist/index.d.ts")));
  });
});
