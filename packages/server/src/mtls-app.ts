import type { FastifyInstance } from "fastify";
import type { DestinationStream } from "pino";
import { authorizationTokenRoutes } from "./authorization-tokens/routes.ts";
import type { AppContext } from "./context.ts";
import { createFastify, type TlsServerOptions } from "./http/create-fastify.ts";
import { registerTokenAnswerHeaders } from "./http/token-answers.ts";
import { certificateLoginRoutes } from "./service-sessions/certificate-routes.ts";
import { keyPairLoginRoutes } from "./service-sessions/key-pair-routes.ts";
import { keyManagerSessionRoutes, serviceSessionRoutes } from "./service-sessions/routes.ts";

export type MtlsListenerRole = "pod" | "keymanager";

/**
 * A mutual-TLS listener (contract §1): the pod's serves `/sessionauth`, key-pair login
 * (`/login/pubkey`) and the calls made with a session token; the key manager's serves
 * `/keyauth` (login and logout) and `/relay/pubkey`. Never listens by itself.
 */
export async function buildMtlsApp(
  ctx: AppContext,
  role: MtlsListenerRole,
  options: { tls: TlsServerOptions; logStream?: DestinationStream | undefined },
): Promise<FastifyInstance> {
  const app = createFastify(ctx, { logStream: options.logStream, mutualTls: options.tls });
  registerTokenAnswerHeaders(app);
  if (role === "pod") {
    await app.register(certificateLoginRoutes(ctx, "service"));
    await app.register(serviceSessionRoutes(ctx));
    await app.register(keyPairLoginRoutes(ctx, "pod"));
    await app.register(authorizationTokenRoutes(ctx));
  } else {
    await app.register(certificateLoginRoutes(ctx, "keymanager"));
    await app.register(keyManagerSessionRoutes(ctx));
    await app.register(keyPairLoginRoutes(ctx, "relay"));
  }
  return app;
}
