import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The kit's identity providers, each a script for `startChildServer`. */
export const oidcProviderScript = new URL("./oidc-provider-process.ts", import.meta.url);
export const faultyIdentityProviderScript = new URL("./faulty-identity-provider.ts", import.meta.url);

export interface ChildServer {
  url: string;
  /** Everything the process wrote, for assertions and failure messages. */
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Runs a TypeScript helper script in its own Node.js process (through tsx) and waits for its
 * "READY <url>" line: the test then talks to it over real HTTP, like to any other server.
 */
export async function startChildServer(script: URL, env: Record<string, string>): Promise<ChildServer> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", fileURLToPath(script)], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script.pathname} did not start:\n${output}`)), 20_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^READY (\S+)$/m.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script.pathname} exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
