import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequester, type Requester } from "./http.ts";

export const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** The `tessera` command, run through tsx. */
export const cliEntry = join(repositoryRoot, "packages/cli/src/main.ts");
const startTimeoutMs = 60_000;

/** A real `tessera serve` process, as an operator runs it. */
export interface SpawnedServer {
  process: ChildProcess;
  httpUrl: string;
  /** Origins of the pod and key-manager mutual-TLS listeners, from the banner. */
  podMtlsUrl: string;
  kmMtlsUrl: string;
  /** fetch against the HTTP listener (see http.ts). */
  request: Requester;
  /** Everything the process printed on stdout and stderr so far. */
  output(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * Runs `tessera serve` in its own process, every listener on a free loopback port, and waits for
 * its banner. Without TESSERA_DATA_DIR in `env` it gets a data directory of its own (deleted by
 * `stop()`), so that several nodes run side by side on one database.
 */
export async function spawnServer(env: Record<string, string>, args: string[] = []): Promise<SpawnedServer> {
  const ownDataDir = env.TESSERA_DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), "tessera-node-")) : undefined;
  const child = spawn(process.execPath, ["--import", "tsx", cliEntry, "serve", ...args], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      ...(ownDataDir ? { TESSERA_DATA_DIR: ownDataDir } : {}),
      TESSERA_HTTP_ADDR: "127.0.0.1:0",
      TESSERA_POD_MTLS_ADDR: "127.0.0.1:0",
      TESSERA_KM_MTLS_ADDR: "127.0.0.1:0",
      TESSERA_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const httpUrl = await new Promise<string>((resolve, reject) => {
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`tessera serve ${reason}:\n${output}`));
    };
    const timer = setTimeout(() => fail(`printed no banner within ${startTimeoutMs / 1000} s`), startTimeoutMs);
    const check = () => {
      const match = /Tessera is listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => fail(`exited with ${code}`));
  });
  // The banner ends with the line above, so the listener lines are in already.
  const origin = (pattern: RegExp) => pattern.exec(output)?.[1] ?? "";
  return {
    process: child,
    httpUrl,
    podMtlsUrl: origin(/Pod mutual-TLS listener[^:]*: (https:\/\/[^/\s]+)/),
    kmMtlsUrl: origin(/Key-manager mutual-TLS listener: (https:\/\/[^/\s]+)/),
    request: createRequester(httpUrl),
    output: () => output,
    alive,
    async stop() {
      if (alive()) {
        child.kill("SIGTERM");
        await exited;
      }
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    },
  };
}
