import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort } from "./ports.ts";

/**
 * A real PostgreSQL server for tests: Debian's `postgresql` package (installed when missing),
 * a throw-away cluster made by initdb in a temporary directory, listening on a free loopback
 * port with trust authentication. No Docker.
 */
export interface PostgresCluster {
  /** Connection string of the `postgres` database as the `postgres` superuser. */
  readonly url: string;
  readonly port: number;
  /** Starts the server again after `stop()`, on the same port. */
  start(): Promise<void>;
  /** Stops the server (fast shutdown: open connections are terminated). */
  stop(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  destroy(): Promise<void>;
}

const isRoot = process.getuid?.() === 0;

/** The directory holding initdb and pg_ctl: Debian's versioned directory first, then PATH. */
export function findPostgresBinaries(): string | undefined {
  const debianRoot = "/usr/lib/postgresql";
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((name) => /^[0-9]+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = join(debianRoot, version, "bin");
      if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return bin;
    }
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  return undefined;
}

/** Finds the server binaries, installing Debian's `postgresql` package when they are missing. */
export function ensurePostgresBinaries(): string {
  const found = findPostgresBinaries();
  if (found) return found;
  if (!isRoot) {
    throw new Error(
      "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them (Debian/Ubuntu: " +
        "sudo apt-get install -y postgresql) or run the tests as root so they can be installed.",
    );
  }
  process.stderr.write("tessera tests: installing PostgreSQL (apt-get install -y postgresql)\n");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
  const installed = findPostgresBinaries();
  if (!installed) throw new Error("apt-get installed postgresql but initdb and pg_ctl are still not found");
  return installed;
}

/** initdb refuses to run as root: as root, the cluster belongs to the `postgres` system user. */
function runAsClusterOwner(command: string, args: string[]): { status: number | null; output: string } {
  const [file, argv] = isRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  const result = spawnSync(file, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function ownerIds(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith("postgres:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error("The postgres system user does not exist (it comes with Debian's postgresql package)");
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** Creates and starts a new cluster; durability is off because the data is thrown away. */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = ensurePostgresBinaries();
  const root = mkdtempSync(join(tmpdir(), "tessera-pg-"));
  const dataDir = join(root, "data");
  const socketDir = join(root, "socket");
  const logFile = join(root, "server.log");
  mkdirSync(socketDir);
  if (isRoot) {
    const { uid, gid } = ownerIds();
    chownSync(root, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const init = runAsClusterOwner(join(bin, "initdb"), [
    "-D",
    dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.output}`);

  let port = await freePort();
  const pgCtl = (args: string[]) => runAsClusterOwner(join(bin, "pg_ctl"), ["-D", dataDir, ...args]);
  const start = async () => {
    const options = [
      "-c listen_addresses=127.0.0.1",
      `-c port=${port}`,
      `-c unix_socket_directories=${socketDir}`,
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c max_connections=300",
      "-c shared_buffers=32MB",
    ].join(" ");
    const started = pgCtl(["-l", logFile, "-w", "-t", "60", "-o", options, "start"]);
    if (started.status !== 0) {
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "";
      throw new Error(`pg_ctl start failed:\n${started.output}\n${log}`);
    }
  };
  try {
    await start();
  } catch {
    // The free port may have been taken in between: one more try on another.
    port = await freePort();
    await start();
  }
  const stop = async () => {
    const stopped = pgCtl(["-m", "fast", "-w", "-t", "60", "stop"]);
    if (stopped.status !== 0 && !/Is server running\?/.test(stopped.output)) {
      throw new Error(`pg_ctl stop failed:\n${stopped.output}`);
    }
  };
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
