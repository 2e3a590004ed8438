import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { buildApp } from "@tessera/server/internal/app.ts";
import { type BootstrapResult, bootstrap } from "@tessera/server/internal/bootstrap.ts";
import { ensureServerTls } from "@tessera/server/internal/certificates/dev-tls.ts";
import { loadConfig } from "@tessera/server/internal/config/config.ts";
import type { AppContext } from "@tessera/server/internal/context.ts";
import type { DatafeedTiming } from "@tessera/server/internal/datafeeds/read.ts";
import { buildMtlsApp } from "@tessera/server/internal/mtls-app.ts";
import { auditTopic } from "@tessera/server/internal/storage/change-feed.ts";
import type { StorageDialect } from "@tessera/server/internal/storage/dialects/dialect.ts";
import { openStorage } from "@tessera/server/internal/storage/open-storage.ts";
import type { FastifyInstance } from "fastify";
import { createRequester, type RequestOptions, type TestResponse } from "./http.ts";
import { TestClock } from "./test-clock.ts";
import { createTestDatabase, type TestDatabase, testStore } from "./test-database.ts";

export type { RequestOptions, TestResponse } from "./http.ts";

export const adminEmail = "admin@example.com";
export const adminPassword = "correct horse battery staple";

export interface TestInstance {
  baseUrl: string;
  /** The data directory; the SQLite file is `tessera.db` in it. */
  dataDir: string;
  /** What the first start created (its generatedPassword is set with `generateAdminPassword`). */
  bootstrap: BootstrapResult | undefined;
  app: FastifyInstance;
  ctx: AppContext;
  storage: StorageDialect;
  clock: TestClock;
  orgId: number;
  /** With `mtls: true`: the pod and key-manager mutual-TLS listeners, and the CA that signed their certificate. */
  podMtlsUrl: string;
  kmMtlsUrl: string;
  serverCaPem: string;
  /** Every log line the server wrote, as raw JSON text. */
  logs: string[];
  /** fetch against the instance; JSON bodies are sent with Content-Type: application/json. */
  request(path: string, init?: RequestOptions): Promise<TestResponse>;
  /** Logs in and returns the session token. */
  login(email?: string, password?: string, selectedOrg?: number): Promise<string>;
  /**
   * Restarts the server: closes this instance WITHOUT deleting its data, then starts a new one
   * on the same data directory or database, the same clock and the same ports.
   */
  restart(): Promise<TestInstance>;
  close(): Promise<void>;
}

/**
 * A real Tessera: a real database (a SQLite file in a fresh temporary directory, or with
 * TESSERA_TEST_STORE=postgres a fresh database in the run's PostgreSQL cluster), the real app
 * listening on a loopback port, and a clock the test controls. The bootstrap admin has a known password.
 */
export interface TestInstanceOptions {
  clock?: TestClock;
  env?: Record<string, string>;
  /** Bootstrap the admin with a generated one-time password instead of `adminPassword`. */
  generateAdminPassword?: boolean;
  /** Also start the pod and key-manager mutual-TLS listeners, as serve() does. */
  mtls?: boolean;
  /** Datafeed long-poll and redelivery periods (30 s each by default). */
  datafeedTiming?: DatafeedTiming;
  /**
   * Period of the background expiry sweeper on the test clock. None by default: tests move the
   * clock by days, and call sweepExpiries themselves.
   */
  expirySweepIntervalMs?: number;
}

/** What a restart reuses. */
interface Reuse {
  dataDir: string;
  database: TestDatabase | undefined;
  ports: { http: number; pod: number; keymanager: number };
}

export async function startTestInstance(options: TestInstanceOptions = {}, reuse?: Reuse): Promise<TestInstance> {
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), "tessera-test-"));
  const clock = options.clock ?? new TestClock();
  // A DATABASE_URL given by the test wins; otherwise the run's store decides.
  const database: TestDatabase | undefined = reuse
    ? reuse.database
    : testStore === "postgres" && options.env?.DATABASE_URL === undefined
      ? await createTestDatabase()
      : undefined;
  const config = loadConfig({
    env: {
      TESSERA_DATA_DIR: dataDir,
      TESSERA_HTTP_ADDR: "127.0.0.1:0",
      TESSERA_LOG_LEVEL: "info",
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...options.env,
    },
  });
  const storage = await openStorage({ dataDir, databaseUrl: config.databaseUrl, poolSize: config.dbPoolSize });
  const created = await bootstrap(storage.db, clock.now(), {
    email: adminEmail,
    password: options.generateAdminPassword ? undefined : adminPassword,
  });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const { app, ctx } = await buildApp({
    config,
    storage,
    clock,
    logStream,
    datafeedTiming: options.datafeedTiming,
    expirySweepIntervalMs: options.expirySweepIntervalMs ?? null,
  });
  await app.listen({ host: "127.0.0.1", port: reuse?.ports.http ?? config.httpAddr.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;

  // The mutual-TLS listeners, as serve() starts them, on loopback ports of their own. A 2048-bit
  // dev CA keeps start-up quick: it signs only the server certificate here, never a client's.
  const mtlsApps: FastifyInstance[] = [];
  const mtlsUrls = { pod: "", keymanager: "" };
  let serverCaPem = "";
  if (options.mtls) {
    const tls = await ensureServerTls(config, { caBits: 2048 });
    serverCaPem = tls.caPath ? readFileSync(tls.caPath, "utf8") : "";
    for (const role of ["pod", "keymanager"] as const) {
      const mtlsApp = await buildMtlsApp(ctx, role, { tls, logStream });
      await mtlsApp.listen({ host: "127.0.0.1", port: reuse?.ports[role] ?? 0 });
      const mtlsAddress = mtlsApp.server.address();
      mtlsUrls[role] = `https://127.0.0.1:${typeof mtlsAddress === "object" && mtlsAddress ? mtlsAddress.port : 0}`;
      mtlsApps.push(mtlsApp);
    }
  }

  const request = createRequester(baseUrl);

  const login = async (email = adminEmail, password = adminPassword, selectedOrg?: number): Promise<string> => {
    const response = await request("/user/authenticate", {
      body: { email, password, selectedOrg: selectedOrg ?? created?.orgId },
    });
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
    return response.body.token as string;
  };

  return {
    baseUrl,
    dataDir,
    bootstrap: created,
    app,
    ctx,
    storage,
    clock,
    orgId: created?.orgId ?? 1,
    podMtlsUrl: mtlsUrls.pod,
    kmMtlsUrl: mtlsUrls.keymanager,
    serverCaPem,
    logs,
    request,
    login,
    async restart() {
      for (const mtlsApp of mtlsApps) await mtlsApp.close();
      await closeApp(app);
      await storage.close();
      const portOf = (url: string) => (url === "" ? 0 : Number(new URL(url).port));
      return startTestInstance(
        { ...options, clock },
        {
          dataDir,
          database,
          ports: { http: port, pod: portOf(mtlsUrls.pod), keymanager: portOf(mtlsUrls.keymanager) },
        },
      );
    },
    async close() {
      for (const mtlsApp of mtlsApps) await mtlsApp.close();
      await closeApp(app);
      await storage.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves once `storage` hears every change notification: at once on SQLite; on PostgreSQL once
 * its LISTEN connection is up (the first subscriber opens it; this subscribes for the while).
 */
export async function untilChangeFeedLive(storage: StorageDialect): Promise<void> {
  const unsubscribe = storage.changes.subscribe(auditTopic, () => {});
  try {
    while (!storage.changes.live) await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    unsubscribe();
  }
}

/**
 * Closes the app, then cuts connections still open a moment later: a client's half-used
 * keep-alive socket must not hold a test for the server's 72-s keep-alive timeout.
 */
async function closeApp(app: FastifyInstance): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), 500);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}
