import { mkdirSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.ts";
import { type BootstrapResult, bootstrap } from "./bootstrap.ts";
import { ensureServerTls, type ServerTls } from "./certificates/dev-tls.ts";
import { systemClock } from "./clock.ts";
import { type Config, ConfigError, type ListenAddress, settings } from "./config/config.ts";
import type { AppContext } from "./context.ts";
import { buildMtlsApp } from "./mtls-app.ts";
import { openStorage } from "./storage/open-storage.ts";

export interface RunningServer {
  app: FastifyInstance;
  ctx: AppContext;
  /** Undefined when this process serves neither the pod nor the agent role. */
  httpUrl: string | undefined;
  podMtlsUrl: string | undefined;
  kmMtlsUrl: string | undefined;
  close(): Promise<void>;
}

/** The URL a listening app answers on. */
export function listeningUrl(app: FastifyInstance, scheme: "http" | "https", requested: ListenAddress): string {
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : requested.port;
  const host = requested.host.includes(":") ? `[${requested.host}]` : requested.host;
  return `${scheme}://${host}:${port}`;
}

/**
 * `tessera serve`: opens the store, bootstraps on first start, and listens for the configured
 * roles: pod → HTTP and the pod mTLS listener; agent → HTTP; keymanager → the key-manager
 * mTLS listener.
 */
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
  const { app, ctx } = await buildApp({ config, storage });
  // /readyz answers on the HTTP listener before the mutual-TLS ones are up: not ready until they are.
  ctx.readiness.listenersUp = false;
  const started: FastifyInstance[] = [];
  const close = async () => {
    for (const instance of [...started, app]) await instance.close();
    await storage.close();
  };
  try {
    let httpUrl: string | undefined;
    if (config.roles.includes("pod") || config.roles.includes("agent")) {
      await listenOn(app, config.httpAddr, settings.httpAddr.env);
      httpUrl = listeningUrl(app, "http", config.httpAddr);
    } else {
      await app.ready();
    }
    let tls: ServerTls | undefined;
    let podMtlsUrl: string | undefined;
    let kmMtlsUrl: string | undefined;
    if (config.roles.includes("pod")) {
      tls ??= await ensureServerTls(config);
      const pod = await buildMtlsApp(ctx, "pod", { tls });
      started.push(pod);
      await listenOn(pod, config.podMtlsAddr, settings.podMtlsAddr.env);
      podMtlsUrl = listeningUrl(pod, "https", config.podMtlsAddr);
    }
    if (config.roles.includes("keymanager")) {
      tls ??= await ensureServerTls(config);
      const km = await buildMtlsApp(ctx, "keymanager", { tls });
      started.push(km);
      await listenOn(km, config.kmMtlsAddr, settings.kmMtlsAddr.env);
      kmMtlsUrl = listeningUrl(km, "https", config.kmMtlsAddr);
    }
    ctx.readiness.listenersUp = true;
    printBanner(print, config, { httpUrl, podMtlsUrl, kmMtlsUrl, tls }, created);
    return { app, ctx, httpUrl, podMtlsUrl, kmMtlsUrl, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function createDataDir(dataDir: string): void {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    throw new ConfigError(settings.dataDir.env, `cannot create ${dataDir}: ${(error as Error).message}`);
  }
}

/** A port in use or an address not on this host is the operator's setting, named as such. */
async function listenOn(app: FastifyInstance, address: ListenAddress, setting: string): Promise<void> {
  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(setting, `cannot listen on ${address.host}:${address.port} (${reason})`);
  }
}

function printBanner(
  print: (line: string) => void,
  config: Config,
  urls: {
    httpUrl?: string | undefined;
    podMtlsUrl?: string | undefined;
    kmMtlsUrl?: string | undefined;
    tls?: ServerTls | undefined;
  },
  created: BootstrapResult | undefined,
): void {
  const { httpUrl, podMtlsUrl, kmMtlsUrl, tls } = urls;
  print(`Store: ${config.databaseUrl ? "PostgreSQL" : `SQLite at ${config.dataDir}/tessera.db`}`);
  if (tls) {
    const origin = tls.generated ? "generated now" : "reused";
    print(
      `TLS server certificate (${origin}): ${tls.certPath}${tls.caPath ? `, signed by the dev CA ${tls.caPath}` : ""}`,
    );
  }
  if (podMtlsUrl) print(`Pod mutual-TLS listener (service sessions): ${podMtlsUrl}/sessionauth/v1/authenticate`);
  if (kmMtlsUrl) print(`Key-manager mutual-TLS listener: ${kmMtlsUrl}/keyauth/v1/authenticate`);
  if (created && httpUrl) {
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
  // Last, so that whoever waits for this line has seen the whole banner.
  if (httpUrl) print(`Tessera is listening on ${httpUrl} (docs: ${httpUrl}/docs)`);
}
