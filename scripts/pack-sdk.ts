/**
 * `npm run pack:sdk [-- --out DIR]`: the client SDK as installable npm packages. In the
 * repository the workspaces export their TypeScript sources (tsx runs them, no build step);
 * outside it, Node does not strip types in node_modules, so this compiles @tessera/protocol and
 * @tessera/client to ES modules with declaration files and packs each into DIR (default
 * ./dist-sdk). Prints the tarball paths, protocol first.
 */
import { packSdk, readOutDirectory } from "./pack-workspaces.ts";

process.stdout.write(`${packSdk(readOutDirectory(process.argv, "dist-sdk")).join("\n")}\n`);
