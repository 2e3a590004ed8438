import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance } from "fastify";
import type { DestinationStream } from "pino";
import { AddressThrottle } from "./access/address-throttle.ts";
import { adminRoutes } from "./admin/routes.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config/config.ts";
import type { AppContext } from "./context.ts";
import { handleClientError } from "./errors/client-error-handler.ts";
import { registerErrorHandling } from "./errors/error-handler.ts";
import { TesseraError } from "./errors/tessera-error.ts";
import { createMetrics } from "./operations/metrics.ts";
import { operationsRoutes } from "./operations/routes.ts";
import { ssoRoutes } from "./sso/routes.ts";
import type { StorageDialect } from "./storage/dialects/dialect.ts";
import { loadServerSecret } from "./storage/server-secrets.ts";
import { userSessionRoutes } from "./user-sessions/routes.ts";

export interface BuildAppOptions {
  config: Config;
  storage: StorageDialect;
  clock?: Clock;
  /** Where logs go (tests capture them here); standard output by default. */
  logStream?: DestinationStream;
}

/** Header and body paths whose values never reach a log line. */
export const redactedLogPaths = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  "req.headers.sessiontoken",
  "req.headers.keymanagertoken",
  "req.headers.cookie",
  "*.password",
  "*.currentPassword",
  "*.newPassword",
  "*.token",
  "*.apiKey",
  "*.clientSecret",
];

/** Builds the HTTP application without listening: the entry point (or a test) listens. */
export async function buildApp(options: BuildAppOptions): Promise<{ app: FastifyInstance; ctx: AppContext }> {
  const { config, storage } = options;
  const clock = options.clock ?? systemClock;
  const db = storage.db;
  const ctx: AppContext = {
    config,
    storage,
    db,
    clock,
    renewalKey: await loadServerSecret(db, "renewal-key", clock.now()),
    loginThrottle: new AddressThrottle(),
    metrics: createMetrics(async () => {
      const now = clock.now();
      const row = await db
        .selectFrom("sessions")
        .select((eb) => eb.fn.countAll<number>().as("live"))
        .where("revoked_at", "is", null)
        .where("expires_at", ">", now)
        .executeTakeFirst();
      return Number(row?.live ?? 0);
    }),
  };

  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: redactedLogPaths, censor: "[redacted]" },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy ?? false,
    // Bodies keep their JSON types: "1" is not an integer here, and unknown fields are refused
    // where a schema says additionalProperties: false.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Clients of the seed systems send Content-Type: application/json on bodiless requests:
  // an empty body is "no body", never an error.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text, rejectPrototypeKeys));
    } catch (error) {
      done(
        error instanceof TesseraError
          ? error
          : new TesseraError("malformed_json", "The request body is not valid JSON"),
        undefined,
      );
    }
  });
  // Fastify reads text/plain by default; this is a JSON API, so any other type with a body is 415,
  // while an empty body under any type is still "no body".
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    done(new TesseraError("unsupported_media_type", "The request body must be application/json"), undefined);
  });

  registerErrorHandling(app, storage);
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    ctx.metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    ctx.metrics.requestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Tessera",
        version: "0.1.0",
        description: "Session-token authentication for APIs: user sessions, API keys, administration.",
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "A user session token (tsu_…)" },
          apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key (tsk_…)" },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.register(operationsRoutes(ctx));
  await app.register(userSessionRoutes(ctx));
  await app.register(adminRoutes(ctx));
  await app.register(ssoRoutes(ctx));
  return { app, ctx };
}

/** Keeps `__proto__` and `constructor.prototype` out of parsed bodies. */
function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (key === "__proto__" || key === "constructor") {
    throw new TesseraError("invalid_request", `The key "${key}" is not allowed`);
  }
  return value;
}
