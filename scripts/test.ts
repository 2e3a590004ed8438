/**
 * `npm test`: the whole suite on SQLite, then on a real PostgreSQL started for this run.
 * `npm run test:sqlite` / `npm run test:postgres` run one store. Extra arguments are test files.
 *
 * node's test runner runs each file in its own process, so one PostgreSQL cluster is started
 * here and its URL handed down in TESSERA_TEST_DATABASE_URL; every test instance makes its own
 * database in it. Exits non-zero when any run fails.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { startPostgresCluster } from "@tessera/test-kit/postgres.ts";

type Store = "sqlite" | "postgres";

const [which = "all", ...files] = process.argv.slice(2);
const stores: Store[] = which === "all" ? ["sqlite", "postgres"] : [which as Store];
if (!stores.every((store) => store === "sqlite" || store === "postgres")) {
  process.stderr.write(`usage: test.ts [all|sqlite|postgres] [test files…]\n`);
  process.exit(2);
}
const patterns = files.length > 0 ? files : ["packages/*/test/**/*.test.ts"];

/** Totals of node's summary lines ("ℹ tests 12", "ℹ pass 12", …) over every run. */
const totals = new Map<string, number>();
const summaryLine = /^ℹ (tests|suites|pass|fail|cancelled|skipped|todo) ([0-9]+)$/;

function runSuite(store: Store, env: Record<string, string>): Promise<number> {
  process.stdout.write(`\n# Tessera test suite on ${store}\n`);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--test", `--test-concurrency=${process.env.TESSERA_TEST_CONCURRENCY ?? "2"}`, ...patterns],
      { stdio: ["inherit", "pipe", "inherit"], env: { ...process.env, TESSERA_TEST_STORE: store, ...env } },
    );
    createInterface({ input: child.stdout }).on("line", (line) => {
      process.stdout.write(`${line}\n`);
      const match = summaryLine.exec(line);
      if (match?.[1] && match[2]) totals.set(match[1], (totals.get(match[1]) ?? 0) + Number(match[2]));
    });
    child.on("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const failed: Store[] = [];
for (const store of stores) {
  if (store === "sqlite") {
    if ((await runSuite("sqlite", {})) !== 0) failed.push("sqlite");
    continue;
  }
  let cluster: Awaited<ReturnType<typeof startPostgresCluster>>;
  try {
    cluster = await startPostgresCluster();
  } catch (error) {
    process.stderr.write(`\n# cannot start PostgreSQL for the tests: ${(error as Error).message}\n`);
    failed.push("postgres");
    continue;
  }
  const stop = () => {
    cluster.destroy().finally(() => process.exit(130));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    if ((await runSuite("postgres", { TESSERA_TEST_DATABASE_URL: cluster.url })) !== 0) failed.push("postgres");
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await cluster.destroy();
  }
}

if (stores.length > 1) {
  // The last summary covers every store, in the test runner's own format.
  process.stdout.write(`\n# Totals over ${stores.join(" and ")}\n`);
  for (const [name, count] of totals) process.stdout.write(`ℹ ${name} ${count}\n`);
}
if (failed.length > 0) {
  process.stdout.write(`\n# FAILED on ${failed.join(" and ")}\n`);
  process.exit(1);
}
process.stdout.write(`\n# passed on ${stores.join(" and ")}\n`);
