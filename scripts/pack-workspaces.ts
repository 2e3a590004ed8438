/**
 * Packs workspaces as npm packages installable outside the repository, for `npm run pack:sdk`
 * and `npm run pack:cli`. Each package is staged in a temporary directory (only what it ships,
 * its LICENSE and a README), then `npm pack`ed into the output directory.
 */

import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repositoryRoot = fileURLToPath(new URL("..", import.meta.url));
const typescript = join(repositoryRoot, "node_modules/typescript/bin/tsc");

type Manifest = Record<string, unknown>;

/** `--out DIR` from the command line, or `fallback` (relative to the repository). */
export function readOutDirectory(argv: readonly string[], fallback: string): string {
  const index = argv.indexOf("--out");
  return resolve(index >= 0 ? (argv[index + 1] ?? "") : join(repositoryRoot, fallback));
}

function readManifest(name: string): Manifest {
  return JSON.parse(readFileSync(join(repositoryRoot, "packages", name, "package.json"), "utf8")) as Manifest;
}

/** Writes the staged package's manifest, LICENSE and README, packs it and returns the tarball's path. */
function packStaged(name: string, staged: string, manifest: Manifest, outDir: string): string {
  const source = join(repositoryRoot, "packages", name);
  writeFileSync(
    join(staged, "package.json"),
    `${JSON.stringify({ ...manifest, engines: { node: ">=22" } }, null, 2)}\n`,
  );
  copyFileSync(join(repositoryRoot, "LICENSE"), join(staged, "LICENSE"));
  const readme = existsSync(join(source, "README.md")) ? join(source, "README.md") : join(repositoryRoot, "README.md");
  copyFileSync(readme, join(staged, "README.md"));
  mkdirSync(outDir, { recursive: true });
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", outDir], {
    cwd: staged,
    encoding: "utf8",
  });
  return join(outDir, packed.trim().split("\n").at(-1) ?? "");
}

function withStage<T>(run: (stage: string) => T): T {
  const stage = mkdtempSync(join(tmpdir(), "tessera-pack-"));
  try {
    return run(stage);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * @tessera/protocol and @tessera/client compiled to ES modules with declaration files (outside
 * the repository plain Node does not strip types in node_modules). Tarball paths, protocol first.
 */
export function packSdk(outDir: string): string[] {
  return withStage((stage) =>
    ["protocol", "client"].map((name) => {
      const staged = join(stage, name);
      const source = join(repositoryRoot, "packages", name);
      execFileSync(
        process.execPath,
        [typescript, "-p", join(source, "tsconfig.build.json"), "--outDir", join(staged, "dist")],
        { stdio: "inherit" },
      );
      const manifest = readManifest(name);
      const dependencies = (manifest.dependencies ?? {}) as Record<string, string>;
      for (const forbidden of ["@tessera/server", "@tessera/test-kit"]) {
        if (forbidden in dependencies) throw new Error(`@tessera/${name} must not depend on ${forbidden}`);
      }
      return packStaged(
        name,
        staged,
        {
          ...manifest,
          exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
          types: "./dist/index.d.ts",
          files: ["dist", "README.md", "LICENSE"],
        },
        outDir,
      );
    }),
  );
}

/**
 * A workspace as its TypeScript sources (`directories`, e.g. src and bin), for packages that run
 * through tsx like the repository does: @tessera/server and @tessera/cli. Returns the tarball's path.
 */
export function packSources(name: string, directories: readonly string[], outDir: string): string {
  return withStage((stage) => {
    const staged = join(stage, name);
    for (const directory of directories) {
      cpSync(join(repositoryRoot, "packages", name, directory), join(staged, directory), { recursive: true });
    }
    return packStaged(name, staged, { ...readManifest(name), files: [...directories, "README.md", "LICENSE"] }, outDir);
  });
}
