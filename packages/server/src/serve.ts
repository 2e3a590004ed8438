import { mkdirSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.ts";
import { type BootstrapResult, bootstrap } from "./bootstrap.ts";
import { systemClock } from "./clock.ts";
import { type Config, ConfigError, settings } from "./config/config.ts";
import { openStorage } from "./storage/open-storage.ts";

export interface RunningServer {
  app: FastifyInstance;
  httpUrl: string;
  close(): Promise<void>;
}

/** `tessera serve`: opens the store, bootstraps on first start, and listens. */
export async function serve(config: Config, print: (line: string) => void = console.log): Promise<RunningServer> {
  createDataDir(config.dataDir);
  const storage = await openStorage({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.dbPoolSize,
  });
  // Several nodes may start at once on an empty database: one bootstraps, the others find it done.
  const created = await storage.withStartupLock(() =>
    bootstrap(storage.db, systemClock.now(), {
      email: config.bootstrapAdminEmail,
      password: config.bootstrapAdminPassword,
    }),
  );
  const { app } = await buildApp({ config, storage });
  try {
    await app.listen({ host: config.httpAddr.host, port: config.httpAddr.port });
  } catch (error) {
    await app.close();
    await storage.close();
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      settings.httpAddr.env,
      `cannot listen on ${config.httpAddr.host}:${config.httpAddr.port} (${reason})`,
    );
  }
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.httpAddr.port;
  const host = config.httpAddr.host.includes(":") ? `[${config.httpAddr.host}]` : config.httpAddr.host;
  const httpUrl = `http://${host}:${port}`;
  printBanner(print, config, httpUrl, created);
  return {
    app,
    httpUrl,
    async close() {
      await app.close();
      await storage.close();
    },
  };
}

/** Start-up failures that an operator fixes with a setting name that setting (DESIGN §7). */
function createDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new ConfigError(settings.dataDir.env, `cannot create ${dataDir}: ${(error as Error).message}`);
  }
}

function printBanner(
  print: (line: string) => void,
  config: Config,
  httpUrl: string,
  created: BootstrapResult | undefined,
): void {
  print(`Tessera is listening on ${httpUrl} (docs: ${httpUrl}/docs)`);
  print(`Store: ${config.databaseUrl ? "PostgreSQL" : `SQLite at ${config.dataDir}/tessera.db`}`);
  if (!created) return;
  print(`First start: created org ${created.orgId} ("Default") and its owner ${created.email}.`);
  if (created.generatedPassword !== undefined) {
    print(`One-time password (shown only now): ${created.generatedPassword}`);
    print("Set your own before the first login:");
    print(
      `  curl -s -X POST ${httpUrl}/user/password -H 'Content-Type: application/json' -d '{"email":"${created.email}","currentPassword":"<one-time password>","newPassword":"<new password, 12+ characters>"}'`,
    );
  }
  print(
    `Log in: curl -s -X POST ${httpUrl}/user/authenticate -H 'Content-Type: application/json' -d '{"email":"${created.email}","password":"…","selectedOrg":${created.orgId}}'`,
  );
}
