/**
 * `npm run pack:sdk [-- --out DIR]`: the client SDK as installable npm packages. In the
 * repository the workspaces export their TypeScript sources (tsx runs them, no build step);
 * outside it, Node does not strip types in node_modules, so this compiles @tessera/protocol and
 * @tessera/client to ES modules with declaration files and packs each into DIR (default
 * ./dist-sdk). Prints the tarball paths, protocol first.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outIndex = process.argv.indexOf("--out");
const outDir = resolve(outIndex >= 0 ? (process.argv[outIndex + 1] ?? "") : join(root, "dist-sdk"));
const typescript = join(root, "node_modules/typescript/bin/tsc");

/** The packages a client needs, in dependency order; none of them may depend on the server or the test kit. */
const packages = ["protocol", "client"];

mkdirSync(outDir, { recursive: true });
const stage = mkdtempSync(join(tmpdir(), "tessera-sdk-"));
try {
  const tarballs: string[] = [];
  for (const name of packages) {
    const source = join(root, "packages", name);
    const staged = join(stage, name);
    execFileSync(
      process.execPath,
      [typescript, "-p", join(source, "tsconfig.build.json"), "--outDir", join(staged, "dist")],
      {
        stdio: "inherit",
      },
    );
    const manifest = JSON.parse(readFileSync(join(source, "package.json"), "utf8")) as Record<string, unknown>;
    const dependencies = (manifest.dependencies ?? {}) as Record<string, string>;
    for (const forbidden of ["@tessera/server", "@tessera/test-kit"]) {
      if (forbidden in dependencies) throw new Error(`@tessera/${name} must not depend on ${forbidden}`);
    }
    writeFileSync(
      join(staged, "package.json"),
      `${JSON.stringify(
        {
          ...manifest,
          exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
          types: "./dist/index.d.ts",
          files: ["dist", "README.md", "LICENSE"],
          engines: { node: ">=22" },
        },
        null,
        2,
      )}\n`,
    );
    copyFileSync(join(root, "LICENSE"), join(staged, "LICENSE"));
    const readme = existsSync(join(source, "README.md")) ? join(source, "README.md") : join(root, "README.md");
    copyFileSync(readme, join(staged, "README.md"));
    const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", outDir], {
      cwd: staged,
      encoding: "utf8",
    });
    tarballs.push(join(outDir, packed.trim().split("\n").at(-1) ?? ""));
  }
  process.stdout.write(`${tarballs.join("\n")}\n`);
} finally {
  rmSync(stage, { recursive: true, force: true });
}
