import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import type { DestinationStream } from "pino";
import { AddressThrottle } from "./access/address-throttle.ts";
import { auditAdminRoutes } from "./audit/admin-routes.ts";
import { signingKeyAdminRoutes } from "./authorization-tokens/admin-routes.ts";
import { authorizationTokenRoutes } from "./authorization-tokens/routes.ts";
import { trustedCaAdminRoutes } from "./certificates/admin-routes.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config/config.ts";
import type { AppContext } from "./context.ts";
import { prepareDummyPassword } from "./crypto/passwords.ts";
import type { DatafeedTiming } from "./datafeeds/read.ts";
import { datafeedRoutes } from "./datafeeds/routes.ts";
import { createFastify } from "./http/create-fastify.ts";
import { registerTokenAnswerHeaders } from "./http/token-answers.ts";
import { createMetrics } from "./operations/metrics.ts";
import { operationsRoutes } from "./operations/routes.ts";
import { orgAdminRoutes } from "./orgs/admin-routes.ts";
import { policyAdminRoutes } from "./policies/admin-routes.ts";
import { introspectionClientAdminRoutes } from "./resource-servers/admin-routes.ts";
import { resourceServerRoutes } from "./resource-servers/routes.ts";
import { applicationAdminRoutes, rsaKeyAdminRoutes } from "./service-sessions/admin-routes.ts";
import { certificateLoginRoutes } from "./service-sessions/certificate-routes.ts";
import { keyPairLoginRoutes } from "./service-sessions/key-pair-routes.ts";
import { keyManagerSessionRoutes, serviceSessionRoutes } from "./service-sessions/routes.ts";
import { sessionAdminRoutes } from "./sessions/admin-routes.ts";
import { startExpirySweeper } from "./sessions/expiry-sweeper.ts";
import { ssoAdminRoutes } from "./sso/admin-routes.ts";
import { ssoStartsPerAddressPerMinute } from "./sso/login-attempts.ts";
import { ssoRoutes } from "./sso/routes.ts";
import type { StorageDialect } from "./storage/dialects/dialect.ts";
import { loadServerSecret } from "./storage/server-secrets.ts";
import { apiKeyAdminRoutes } from "./user-sessions/admin-routes.ts";
import { userSessionRoutes } from "./user-sessions/routes.ts";
import { userAdminRoutes } from "./users/admin-routes.ts";
import { invitationRoutes } from "./users/invitation-routes.ts";

export { redactedLogPaths } from "./http/create-fastify.ts";

export interface BuildAppOptions {
  config: Config;
  storage: StorageDialect;
  clock?: Clock;
  /** Where logs go (tests capture them here); standard output by default. */
  logStream?: DestinationStream;
  /** Datafeed long-poll and redelivery periods (30 s each; tests shorten them). */
  datafeedTiming?: DatafeedTiming;
  /**
   * Period of the expiry sweeper that records session.expired and password.expiring (30 s);
   * `null` runs none (tests that sweep by hand, and move their clock by days).
   */
  expirySweepIntervalMs?: number | null;
}

async function createContext(config: Config, storage: StorageDialect, clock: Clock): Promise<AppContext> {
  const db = storage.db;
  return {
    config,
    storage,
    db,
    clock,
    renewalKey: await loadServerSecret(db, "renewal-key", clock.now()),
    emailKey: await loadServerSecret(db, "email-key", clock.now()),
    loginThrottle: new AddressThrottle(clock),
    ssoStartThrottle: new AddressThrottle(clock, ssoStartsPerAddressPerMinute),
    readiness: { listenersUp: true },
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
}

/** Builds the HTTP application without listening: the entry point (or a test) listens. */
export async function buildApp(options: BuildAppOptions): Promise<{ app: FastifyInstance; ctx: AppContext }> {
  const ctx = await createContext(options.config, options.storage, options.clock ?? systemClock);
  await prepareDummyPassword();
  const app = createFastify(ctx, { logStream: options.logStream });
  registerTokenAnswerHeaders(app);

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Tessera",
        version: "0.1.0",
        description:
          "Session-token authentication for APIs: user sessions, API keys, service sessions over mutual TLS, administration.",
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "A user session token (tsu_…)" },
          apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key (tsk_…)" },
          sessionToken: {
            type: "apiKey",
            in: "header",
            name: "sessionToken",
            description: "A service session token (tss_…)",
          },
          introspectionClient: {
            type: "http",
            scheme: "basic",
            description:
              "A registered introspection client's id and secret (or as client_id/client_secret form fields)",
          },
          keyManagerToken: {
            type: "apiKey",
            in: "header",
            name: "keyManagerToken",
            description: "A key-manager session token (tsm_…)",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  await app.register(operationsRoutes(ctx));
  await app.register(userSessionRoutes(ctx));
  await app.register(invitationRoutes(ctx));
  // Administration: each domain's admin-routes.ts.
  await app.register(orgAdminRoutes(ctx));
  await app.register(userAdminRoutes(ctx));
  await app.register(policyAdminRoutes(ctx));
  await app.register(sessionAdminRoutes(ctx));
  await app.register(apiKeyAdminRoutes(ctx));
  await app.register(auditAdminRoutes(ctx));
  await app.register(signingKeyAdminRoutes(ctx));
  await app.register(trustedCaAdminRoutes(ctx));
  await app.register(applicationAdminRoutes(ctx));
  await app.register(rsaKeyAdminRoutes(ctx));
  await app.register(ssoAdminRoutes(ctx));
  await app.register(introspectionClientAdminRoutes(ctx));
  // Documented here; on this plain-HTTP listener they answer 401 client_certificate_required.
  await app.register(certificateLoginRoutes(ctx, "service"));
  await app.register(certificateLoginRoutes(ctx, "keymanager"));
  await app.register(serviceSessionRoutes(ctx));
  await app.register(keyManagerSessionRoutes(ctx));
  await app.register(keyPairLoginRoutes(ctx, "both"));
  await app.register(authorizationTokenRoutes(ctx));
  await app.register(resourceServerRoutes(ctx));
  await app.register(ssoRoutes(ctx));
  await app.register(datafeedRoutes(ctx, options.datafeedTiming));
  if (options.expirySweepIntervalMs !== null) {
    const stopSweeper = startExpirySweeper(ctx, options.expirySweepIntervalMs);
    app.addHook("onClose", async () => stopSweeper());
  }
  return { app, ctx };
}
