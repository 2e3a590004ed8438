import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { KeyManagerTokenResponse, ServiceSessionTokenResponse } from "@tessera/protocol";
import type { ServiceSessionKind } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { authenticateClientCertificate } from "./certificate-login.ts";
import { acceptAnyBodyAsBytes, assertNoRequestBody } from "./no-body.ts";
import { keyManagerSessionResponse, serviceSessionResponse } from "./open-session-response.ts";

const tags = ["Service sessions"];

/**
 * `POST /sessionauth/v1/authenticate` (pod) or `POST /keyauth/v1/authenticate` (key manager):
 * a service session from the client certificate of the TLS connection. On a listener without
 * TLS the answer is 401 client_certificate_required.
 */
export function certificateLoginRoutes(ctx: AppContext, kind: ServiceSessionKind): FastifyPluginAsyncTypebox {
  return async (app) => {
    acceptAnyBodyAsBytes(app);
    if (kind === "service") {
      app.post("/sessionauth/v1/authenticate", {
        schema: {
          tags,
          summary: "Service session from the TLS client certificate (no body)",
          description:
            "Served on the pod mutual-TLS listener. The certificate's CN must be the username of an active service user.",
          response: { 200: ServiceSessionTokenResponse },
        },
        config: { errors: "symphony", carriesToken: true },
        handler: async (request) => {
          assertNoRequestBody(ctx, request);
          const account = await authenticateClientCertificate(ctx, request.raw.socket, request.ip);
          return serviceSessionResponse(ctx, account, { ip: request.ip, method: "certificate" });
        },
      });
    } else {
      app.post("/keyauth/v1/authenticate", {
        schema: {
          tags,
          summary: "Key-manager session from the TLS client certificate (no body)",
          description: "Served on the key-manager mutual-TLS listener; same certificate rules as /sessionauth.",
          response: { 200: KeyManagerTokenResponse },
        },
        config: { errors: "symphony", carriesToken: true },
        handler: async (request) => {
          assertNoRequestBody(ctx, request);
          const account = await authenticateClientCertificate(ctx, request.raw.socket, request.ip);
          return keyManagerSessionResponse(ctx, account, { ip: request.ip, method: "certificate" });
        },
      });
    }
  };
}
