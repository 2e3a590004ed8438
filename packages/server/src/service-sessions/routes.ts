import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { MessageResponse, SessionInfoResponse } from "@tessera/protocol";
import { requireServiceSession } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { revokeSessions } from "../sessions/revoke-sessions.ts";

const tags = ["Service sessions"];
const sessionTokenSecurity = [{ sessionToken: [] }];

/** Symphony's calls made with a `sessionToken` header (contract §3 "Service sessions"). */
export function serviceSessionRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/sessionauth/v1/logout", {
      schema: {
        tags,
        summary: "Log out: revoke the service session",
        security: sessionTokenSecurity,
        response: { 200: MessageResponse },
      },
      config: { errors: "symphony" },
      handler: async (request) => {
        const session = await requireServiceSession(ctx, request.headers.sessiontoken, "service");
        await revokeSessions(
          ctx,
          { orgId: session.orgId, sessionId: session.sessionId },
          { actorUserId: session.userId, reason: "logout", ip: request.ip },
        );
        return { message: "success" };
      },
    });

    app.get("/pod/v2/sessioninfo", {
      schema: {
        tags,
        summary: "The user of the session (Symphony's UserV2 fields)",
        security: sessionTokenSecurity,
        response: { 200: SessionInfoResponse },
      },
      config: { errors: "symphony" },
      handler: async (request) => {
        const session = await requireServiceSession(ctx, request.headers.sessiontoken, "service");
        return {
          id: session.userId,
          username: session.username,
          emailAddress: session.email,
          displayName: session.displayName,
          accountType: "SYSTEM" as const,
          roles: [session.role],
        };
      },
    });
  };
}
