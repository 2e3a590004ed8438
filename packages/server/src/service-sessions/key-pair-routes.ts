import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { KeyManagerTokenResponse, KeyPairLoginRequest, ServiceSessionTokenResponse } from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { authenticateKeyPairToken } from "./key-pair-login.ts";
import { acceptedAudiences } from "./key-pair-token-use.ts";
import { keyManagerSessionResponse, serviceSessionResponse } from "./open-session-response.ts";

const tags = ["Service sessions"];

/**
 * Symphony's key-pair login: `/login/pubkey/authenticate` opens a service session,
 * `/relay/pubkey/authenticate` a key-manager session. `which` picks the paths a listener serves.
 */
export function keyPairLoginRoutes(ctx: AppContext, which: "pod" | "relay" | "both"): FastifyPluginAsyncTypebox {
  return async (app) => {
    if (which !== "relay") {
      app.post("/login/pubkey/authenticate", {
        schema: {
          tags,
          summary: "Service session from a JWT signed RS512 by a registered RSA key",
          body: KeyPairLoginRequest,
          response: { 200: ServiceSessionTokenResponse },
        },
        config: { errors: "symphony", carriesToken: true },
        handler: async (request) => {
          const account = await authenticateKeyPairToken(ctx, request.body.token, request.ip, {
            kind: "session",
            audiences: acceptedAudiences(ctx, `${request.protocol}://${request.host}`),
          });
          return serviceSessionResponse(ctx, account, { ip: request.ip, method: "key_pair" });
        },
      });
    }
    if (which !== "pod") {
      app.post("/relay/pubkey/authenticate", {
        schema: {
          tags,
          summary: "Key-manager session from a JWT signed RS512 by a registered RSA key",
          body: KeyPairLoginRequest,
          response: { 200: KeyManagerTokenResponse },
        },
        config: { errors: "symphony", carriesToken: true },
        handler: async (request) => {
          const account = await authenticateKeyPairToken(ctx, request.body.token, request.ip, {
            kind: "key_manager",
            audiences: acceptedAudiences(ctx, `${request.protocol}://${request.host}`),
          });
          return keyManagerSessionResponse(ctx, account, { ip: request.ip, method: "key_pair" });
        },
      });
    }
  };
}
