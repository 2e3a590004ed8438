import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { KeyManagerTokenResponse, rolePermissions, ServiceSessionTokenResponse } from "@tessera/protocol";
import { symphonyErrorResponses } from "../access/route-schemas.ts";
import { issueAuthorizationToken } from "../authorization-tokens/tokens.ts";
import type { AppContext } from "../context.ts";
import { authenticateClientCertificate } from "./certificate-login.ts";
import { acceptAnyBodyAsBytes, assertNoRequestBody } from "./no-body.ts";
import { openServiceSession, type ServiceSessionKind } from "./service-session-store.ts";

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
          response: { 200: ServiceSessionTokenResponse, ...symphonyErrorResponses },
        },
        handler: async (request) => {
          assertNoRequestBody(ctx, request);
          const account = await authenticateClientCertificate(ctx, request.raw.socket);
          const session = await openServiceSession(ctx, account, "service", { ip: request.ip, method: "certificate" });
          const authorization = await issueAuthorizationToken(ctx, {
            userId: account.userId,
            orgId: account.orgId,
            sessionId: session.sessionId,
            permissions: rolePermissions[account.role],
            sessionExpiresAt: session.expiresAt,
          });
          return { name: "sessionToken" as const, token: session.token, authorizationToken: authorization.token };
        },
      });
    } else {
      app.post("/keyauth/v1/authenticate", {
        schema: {
          tags,
          summary: "Key-manager session from the TLS client certificate (no body)",
          description: "Served on the key-manager mutual-TLS listener; same certificate rules as /sessionauth.",
          response: { 200: KeyManagerTokenResponse, ...symphonyErrorResponses },
        },
        handler: async (request) => {
          assertNoRequestBody(ctx, request);
          const account = await authenticateClientCertificate(ctx, request.raw.socket);
          const session = await openServiceSession(ctx, account, "keymanager", {
            ip: request.ip,
            method: "certificate",
          });
          return { name: "keyManagerToken" as const, token: session.token };
        },
      });
    }
  };
}
