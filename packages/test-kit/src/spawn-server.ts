import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

export const repositoryRoot = fileURLToPath(new URL("../../../", import.meta.url));
const cliEntry = fileURLToPath(new URL("../../cli/src/main.ts", import.meta.url));

export interface SpawnedServer {
  process: ChildProcess;
  httpUrl: string;
  /** Origins of the pod and key-manager mutual-TLS listeners, from the banner. */
  podMtlsUrl: string;
  kmMtlsUrl: string;
  /** Everything the process printed on stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Runs `tessera serve` as an operator would, in its own process, and waits for its banner. */
export async function spawnServer(env: Record<string, string>, args: string[] = []): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ["--import", "tsx", cliEntry, "serve", ...args], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
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
  const httpUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 30 s:\n${output}`)), 30_000);
    const check = () => {
      const match = /Tessera is listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`tessera serve exited with ${code}:\n${output}`));
    });
  });
  // The banner ends with the line above, so the listener lines are in already.
  const origin = (pattern: RegExp) => pattern.exec(output)?.[1] ?? "";
  return {
    process: child,
    httpUrl,
    podMtlsUrl: origin(/Pod mutual-TLS listener[^:]*: (https:\/\/[^/\s]+)/),
    kmMtlsUrl: origin(/Key-manager mutual-TLS listener: (https:\/\/[^/\s]+)/),
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    },
  };
}
