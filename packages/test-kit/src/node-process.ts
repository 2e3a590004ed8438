import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequester, type Requester } from "./http.ts";

const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const startTimeoutMs = 60_000;

/** A real `tessera serve` process, as an operator runs it. */
export interface NodeProcess {
  baseUrl: string;
  request: Requester;
  /** Everything the process wrote to standard output so far. */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx packages/cli/src/main.ts serve` with its own data directory and
 * every listener on a free loopback port, so several nodes run side by side on one database.
 */
export async function startNodeProcess(env: Record<string, string>): Promise<NodeProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "tessera-node-"));
  const child = spawn(process.execPath, ["--import", "tsx", "packages/cli/src/main.ts", "serve"], {
    cwd: repositoryRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      TESSERA_DATA_DIR: dataDir,
      TESSERA_HTTP_ADDR: "127.0.0.1:0",
      TESSERA_POD_MTLS_ADDR: "127.0.0.1:0",
      TESSERA_KM_MTLS_ADDR: "127.0.0.1:0",
      TESSERA_LOG_LEVEL: "warn",
      ...env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error("did not print its banner in time")), startTimeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`tessera serve ${error.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    child.stdout?.on("data", () => {
      const match = /Tessera is listening on (http:\/\/[0-9.]+:[0-9]+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => fail(new Error(`exited with ${code}`)));
  });

  return {
    baseUrl,
    request: createRequester(baseUrl),
    output: () => stdout,
    alive: () => isRunning(child),
    async stop() {
      if (isRunning(child)) {
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
