/**
 * `npm run pack:cli [-- --out DIR]`: the `tessera` command as installable npm packages, into
 * DIR (default ./dist-cli): the SDK packages of `npm run pack:sdk`, then @tessera/server and
 * @tessera/cli as their TypeScript sources, which the command's launcher runs through tsx (a
 * dependency of @tessera/cli). Prints the tarball paths, in that order; install them together:
 * `npm install DIR/*.tgz`.
 */
import { packSdk, packSources, readOutDirectory } from "./pack-workspaces.ts";

const outDir = readOutDirectory(process.argv, "dist-cli");
const tarballs = [
  ...packSdk(outDir),
  packSources("server", ["src"], outDir),
  packSources("cli", ["bin", "src"], outDir),
];
process.stdout.write(`${tarballs.join("\n")}\n`);
