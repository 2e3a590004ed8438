import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LoadSpec } from "./load-spec.ts";
import type { Round } from "./stats.ts";

export const benchDir = fileURLToPath(new URL("..", import.meta.url));
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** A TypeScript file run by this same node, through tsx. */
export function spawnTs(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []) {
  return spawn(process.execPath, [...nodeArgs, "--import", "tsx", file, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** Waits for the first stdout line matching `pattern`; fails if the process exits first. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error("no stdout"));
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before printing ${pattern}`));
    };
    child.once("exit", onExit);
    lines.on("line", (line) => {
      const match = pattern.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      resolve(match);
    });
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a process, in bytes (Linux). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return Number(kib ?? Number.NaN) * 1024;
}

/** Runs the load generator in its own process and returns its rounds. */
export async function runLoad(spec: LoadSpec): Promise<Round[]> {
  const child = spawnTs(`${benchDir}src/load-worker.ts`, [JSON.stringify(spec)]);
  const line = await waitForLine(
    child,
    /^\[.*\]$/,
    (spec.warmupSeconds + spec.rounds * spec.roundSeconds) * 1000 + 120_000,
  );
  await new Promise<void>((resolve) => (child.exitCode === null ? child.once("exit", () => resolve()) : resolve()));
  return JSON.parse(line[0]) as Round[];
}
