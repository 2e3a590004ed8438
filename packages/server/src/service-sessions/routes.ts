import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { MessageResponse, SessionInfoResponse } from "@tessera/protocol";
import type { FastifyRequest } from "fastify";
import { invalidToken } from "../access/resolve-token.ts";
import { type LiveServiceSession, requireServiceSession } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { revokeSessions } from "../sessions/revoke-sessions.ts";

const tags = ["Service sessions"];
const sessionTokenSecurity = [{ sessionToken: [] }];

/** Revokes the holder's own sessions, as a logout (each audited as `session.revoked`, reason "logout"). */
async function logOut(ctx: AppContext, sessions: LiveServiceSession[], request: FastifyRequest): Promise<void> {
  for (const session of sessions) {
    await revokeSessions(
      ctx,
      { orgId: session.orgId, sessionId: session.sessionId },
      { actorUserId: session.userId, reason: "logout", ip: request.ip },
    );
  }
}

/**
 * The key-manager session a service logout also ends: only the one whose token is sent beside the
 * service token, and only when it is the same account's. Ending every key-manager session of the
 * user would log out the other running instances of the same bot.
 */
async function keyManagerSessionBeside(
  ctx: AppContext,
  request: FastifyRequest,
  service: LiveServiceSession,
): Promise<LiveServiceSession[]> {
  const header = request.headers.keymanagertoken;
  if (header === undefined) return [];
  const keyManager = await requireServiceSession(ctx, header, "keymanager");
  if (keyManager.userId !== service.userId || keyManager.orgId !== service.orgId) {
    throw invalidToken("The keyManagerToken belongs to another account than the sessionToken", true);
  }
  return [keyManager];
}

/** Symphony's calls made with a `sessionToken` header (contract §3 "Service sessions"). */
export function serviceSessionRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/sessionauth/v1/logout", {
      schema: {
        tags,
        summary: "Log out: revoke the service session (and the key-manager session whose keyManagerToken is sent too)",
        security: sessionTokenSecurity,
        response: { 200: MessageResponse },
      },
      config: { errors: "symphony" },
      handler: async (request) => {
        const session = await requireServiceSession(ctx, request.headers.sessiontoken, "service");
        // Both tokens are checked before either session ends.
        const keyManager = await keyManagerSessionBeside(ctx, request, session);
        await logOut(ctx, [session, ...keyManager], request);
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

/**
 * Symphony's key-manager logout, `POST /keyauth/v1/logout`, on the key-manager listener and the HTTP
 * one. Symphony's reference sends the key-manager token in a `sessionToken` header; the
 * `keyManagerToken` header its login answers name is taken first.
 */
export function keyManagerSessionRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/keyauth/v1/logout", {
      schema: {
        tags,
        summary: "Log out: revoke the key-manager session",
        security: [{ keyManagerToken: [] }, { sessionToken: [] }],
        response: { 200: MessageResponse },
      },
      config: { errors: "symphony" },
      handler: async (request) => {
        const header = request.headers.keymanagertoken ?? request.headers.sessiontoken;
        const session = await requireServiceSession(ctx, header, "keymanager");
        await logOut(ctx, [session], request);
        return { message: "success" };
      },
    });
  };
}
