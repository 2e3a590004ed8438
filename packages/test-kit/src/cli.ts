import { type ChildProcess, spawn } from "node:child_process";
import { cliEntry } from "./spawn-server.ts";

export interface CliRun {
  child: ChildProcess;
  /** Resolves with the first http(s) URL the command prints on standard error. */
  printedUrl: Promise<string>;
  /** Resolves when the command exits. */
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Runs the real `tessera` command in its own process. */
export function runCli(args: string[]): CliRun {
  const child = spawn(process.execPath, ["--import", "tsx", cliEntry, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const printedUrl = new Promise<string>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /(https?:\/\/\S+)/.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    child.once("exit", () => reject(new Error(`the command printed no URL:\n${stderr}`)));
  });
  printedUrl.catch(() => {});
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
  return { child, printedUrl, exited };
}
