import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

const nginxCandidates = ["/usr/sbin/nginx", "/usr/bin/nginx"];

/**
 * The real nginx from Debian's package. Installed with apt-get when missing (the test
 * machine and CI run as root); throws when that is impossible, so the test fails loudly.
 */
export function ensureNginx(): string {
  const found = nginxCandidates.find((path) => existsSync(path));
  if (found) return found;
  const install = () =>
    execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "nginx"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  try {
    install();
  } catch {
    execFileSync("apt-get", ["update"], { stdio: "ignore" });
    install();
  }
  const installed = nginxCandidates.find((path) => existsSync(path));
  if (!installed) throw new Error("nginx is not installed and apt-get could not install it");
  return installed;
}

export interface RunningNginx {
  url: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/** Starts nginx in the foreground with `httpConfig` (the contents of its http block); `PORT` there is replaced. */
export async function startNginx(httpConfig: (port: number) => string): Promise<RunningNginx> {
  const binary = ensureNginx();
  const prefix = mkdtempSync(join(tmpdir(), "tessera-nginx-"));
  for (const dir of ["logs", "temp"]) mkdirSync(join(prefix, dir));
  const port = await freePort();
  const temp = join(prefix, "temp");
  const config = `
${process.getuid?.() === 0 ? "user root;" : ""}
worker_processes 1;
daemon off;
pid ${join(prefix, "nginx.pid")};
error_log ${join(prefix, "logs", "error.log")} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
${httpConfig(port)}
}
`;
  const configPath = join(prefix, "nginx.conf");
  writeFileSync(configPath, config);
  const child: ChildProcess = spawn(binary, ["-p", prefix, "-e", join(prefix, "logs", "error.log"), "-c", configPath], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const errorLog = () => {
    const path = join(prefix, "logs", "error.log");
    return `${stderr}${existsSync(path) ? readFileSync(path, "utf8") : ""}`;
  };
  // Ready when the port answers; bounded wait.
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${errorLog()}`);
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      if (attempt >= 100) throw new Error(`nginx did not start: ${errorLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    errorLog,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGQUIT");
        await exited;
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
