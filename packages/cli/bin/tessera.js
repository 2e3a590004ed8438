#!/usr/bin/env node
// The `tessera` command. Plain JavaScript that any Node can read, so that an old one is told
// which Node is needed instead of failing on the first TypeScript file. The commands themselves
// are TypeScript, run in this same process through tsx's loader: no second process, so signals,
// the terminal (hidden password prompt) and the exit status stay the command's own.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const requiredMajor = 22;
const launcher = fileURLToPath(import.meta.url);
// Set for the second start below, so that it can never loop.
const relaunched = "TESSERA_CLI_RELAUNCHED";

if (Number(process.versions.node.split(".")[0]) >= requiredMajor) {
  const { register } = await import("tsx/esm/api");
  // The sources compile the same wherever the command starts, whatever tsconfig.json the
  // current directory has.
  register({ tsconfig: false });
  await import("../src/main.ts");
} else if (process.env[relaunched] !== "1" && repositoryWithNode()) {
  relaunchWith(repositoryWithNode());
} else {
  refuse();
}

/** In the repository, scripts/with-node.sh finds (or installs once) the Node that `npm start` uses. */
function repositoryWithNode() {
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const script = join(root, "scripts", "with-node.sh");
  return existsSync(script) && join(root, "packages", "cli", "bin", "tessera.js") === launcher ? script : "";
}

function relaunchWith(withNode) {
  const child = spawn("sh", [withNode, "node", launcher, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, [relaunched]: "1" },
  });
  // Ctrl-C reaches the child from the terminal itself; a SIGTERM sent to this process is passed on.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("error", () => refuse());
  child.on("exit", (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}

function refuse() {
  process.stderr.write(
    `tessera: Node.js ${requiredMajor} or later is required (Tessera runs on Node.js 24 LTS), ` +
      `but ${process.execPath} is ${process.version}. Put Node.js 24 first on PATH.\n`,
  );
  process.exit(1);
}
