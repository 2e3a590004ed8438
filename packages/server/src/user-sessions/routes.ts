import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  ChangePasswordRequest,
  CreateApiKeyRequest,
  CreateApiKeyResponse,
  LoginRequest,
  MeResponse,
  OrgMembershipList,
  OwnSessionList,
  OwnSessionParams,
  RevokeOtherSessionsResponse,
  SessionTokenResponse,
} from "@tessera/protocol";
import { authenticate, presentedBearerToken } from "../access/principal.ts";
import { noContent, userSecurity } from "../access/route-schemas.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { getAccountPasswordPolicy } from "../policies/account-policy.ts";
import { passwordExpiresAt } from "../policies/policies.ts";
import { listOwnSessions, revokeOtherOwnSessions, revokeOwnSession } from "../sessions/own-sessions.ts";
import { renewUserSession } from "../sessions/renew-session.ts";
import { revokeSessions } from "../sessions/revoke-sessions.ts";
import { createApiKey } from "./api-keys.ts";
import { listActiveOrgs } from "./credentials.ts";
import { loginWithPassword } from "./login.ts";
import { changePassword } from "./password.ts";

const tags = ["User sessions"];

/** contract §3 "User sessions": the paths and fields of the user-session API Tessera reproduces. */
export function userSessionRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/user/authenticate", {
      schema: {
        tags,
        summary: "Log in with email, password and organisation",
        body: LoginRequest,
        response: { 200: SessionTokenResponse },
      },
      config: { carriesToken: true },
      handler: (request) => loginWithPassword(ctx, request.body, request.ip),
    });

    app.get("/user/authenticate", {
      // Renewal changes state: a HEAD would retire the token and never show its successor.
      exposeHeadRoute: false,
      schema: {
        tags,
        summary: "Renew a session token: a new token with a new window",
        security: [{ bearerAuth: [] }],
        response: { 200: SessionTokenResponse },
      },
      config: { carriesToken: true },
      handler: async (request) => {
        const principal = await authenticate(ctx, request);
        return renewUserSession(ctx, principal, presentedBearerToken(request) ?? "", request.ip);
      },
    });

    app.delete("/user/authenticate", {
      schema: {
        tags,
        summary: "Log out: revoke the session",
        security: [{ bearerAuth: [] }],
        response: noContent,
      },
      handler: async (request, reply) => {
        const principal = await authenticate(ctx, request);
        if (principal.sessionId === null) {
          // A 204 here would let an integration believe its key is gone.
          throw new TesseraError("invalid_request", "An API key has no session to log out; an org admin revokes it");
        }
        await revokeSessions(
          ctx,
          { orgId: principal.orgId, sessionId: principal.sessionId },
          { actorUserId: principal.userId, reason: "logout", ip: request.ip },
        );
        return reply.status(204).send(null);
      },
    });

    app.get("/user/sessions", {
      schema: {
        tags,
        summary: "The caller's live sessions in every org, the current one marked",
        security: [{ bearerAuth: [] }],
        response: { 200: OwnSessionList },
      },
      handler: async (request) => listOwnSessions(ctx, await authenticate(ctx, request, "self:read")),
    });

    app.delete("/user/sessions/:id", {
      schema: {
        tags,
        summary: "End one of the caller's sessions (404 for any other)",
        security: [{ bearerAuth: [] }],
        params: OwnSessionParams,
        response: noContent,
      },
      handler: async (request, reply) => {
        const principal = await authenticate(ctx, request, "self:write");
        await revokeOwnSession(ctx, principal, Number(request.params.id), request.ip);
        return reply.status(204).send(null);
      },
    });

    app.post("/user/sessions/revoke-others", {
      schema: {
        tags,
        summary: "Log out every other device: end all the caller's sessions but the current one",
        security: [{ bearerAuth: [] }],
        response: { 200: RevokeOtherSessionsResponse },
      },
      handler: async (request) => {
        const principal = await authenticate(ctx, request, "self:write");
        return { revoked: await revokeOtherOwnSessions(ctx, principal, request.ip) };
      },
    });

    app.get("/user/users/me", {
      schema: {
        tags,
        summary: "The caller, its current org, role, permissions and session expiry",
        security: userSecurity,
        response: { 200: MeResponse },
      },
      handler: async (request) => {
        const principal = await authenticate(ctx, request, "self:read");
        const passwordExpiry =
          principal.kind === "person"
            ? passwordExpiresAt(
                await getAccountPasswordPolicy(ctx.db, principal.userId, ctx.config.maxLockoutMinutes),
                principal.passwordChangedAt,
              )
            : null;
        return {
          id: principal.userId,
          email: principal.email,
          displayName: principal.displayName,
          kind: principal.kind,
          orgUserId: principal.membershipId,
          currentOrg: { id: principal.orgId, name: principal.orgName },
          role: principal.role,
          permissions: [...principal.permissions] as MeResponse["permissions"],
          authenticatedWith: principal.via,
          sessionExpiresAt: principal.sessionExpiresAt === null ? null : toUnixSeconds(principal.sessionExpiresAt),
          passwordExpiresAt: passwordExpiry === null ? null : toUnixSeconds(passwordExpiry),
        };
      },
    });

    app.get("/user/orgs", {
      schema: {
        tags,
        summary: "The orgs the caller is an active member of",
        security: userSecurity,
        response: { 200: OrgMembershipList },
      },
      handler: async (request) => {
        const principal = await authenticate(ctx, request, "self:read");
        const orgs = await listActiveOrgs(ctx, principal.userId);
        return orgs.map((org) => ({ id: org.orgId, name: org.orgName, role: org.role }));
      },
    });

    app.post("/user/password", {
      schema: {
        tags,
        summary: "Change a password (also when it has expired)",
        body: ChangePasswordRequest,
        response: noContent,
      },
      handler: async (request, reply) => {
        await changePassword(ctx, request.body, request.ip);
        return reply.status(204).send(null);
      },
    });

    app.post("/user/apiKey", {
      schema: {
        tags,
        summary: "Create an API key for an org user (org admins only); shown once",
        security: userSecurity,
        body: CreateApiKeyRequest,
        response: { 200: CreateApiKeyResponse },
      },
      config: { carriesToken: true },
      handler: async (request) => {
        const principal = await authenticate(ctx, request, "api-keys:write");
        return createApiKey(ctx, principal, request.body, request.ip);
      },
    });
  };
}
