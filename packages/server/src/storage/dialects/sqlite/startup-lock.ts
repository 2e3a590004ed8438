import SQLite from "better-sqlite3";

/** Start-ups waiting in this process, by database file. */
const queues = new Map<string, Promise<unknown>>();

/** How long another process's start-up may hold the lock before this one gives up. */
const waitMs = 60_000;

/**
 * Runs `task` while no other start-up on the same database file runs: migrations of SQLite are
 * not guarded by Kysely, and two processes started at once on a fresh data directory would both
 * create the tables. In this process a promise queue orders start-ups (SQLite's wait would block
 * the event loop the holder needs); across processes an exclusive transaction on a lock file does.
 */
export function withSqliteStartupLock<T>(databaseFile: string, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(databaseFile) ?? Promise.resolve();
  const run = previous.then(async () => {
    const lock = new SQLite(`${databaseFile}.startup-lock`);
    try {
      lock.pragma(`busy_timeout = ${waitMs}`);
      lock.exec("BEGIN EXCLUSIVE");
      return await task();
    } finally {
      lock.close();
    }
  });
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(databaseFile, settled);
  void settled.then(() => {
    if (queues.get(databaseFile) === settled) queues.delete(databaseFile);
  });
  return run;
}
