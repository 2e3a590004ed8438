import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { OrgParams, OrgSessionParams, OrgUserParams, SessionList, SessionListQuery } from "@tessera/protocol";
import { noContent } from "../access/route-schemas.ts";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { listLiveSessions, revokeOneSession, revokeOrgSessions, revokeUserSessions } from "./org-sessions.ts";

const tags = adminTags("sessions");

/** An org's live sessions: listed, and revoked one, per user or all at once. */
export function sessionAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/sessions", {
      permission: "sessions:read",
      schema: {
        tags,
        summary: "List the org's live sessions, optionally of one user",
        params: OrgParams,
        querystring: SessionListQuery,
        response: { 200: SessionList },
      },
      handler: ({ request, orgId }) => {
        const { userId } = request.query;
        return listLiveSessions(ctx, orgId, userId === undefined ? {} : { userId: Number(userId) });
      },
    });

    org.delete("/admin/orgs/:orgId/sessions/:sessionId", {
      permission: "sessions:revoke",
      schema: { tags, summary: "Revoke one session", params: OrgSessionParams, response: noContent },
      handler: async ({ request, reply, caller, orgId }) => {
        await revokeOneSession(ctx, caller, orgId, Number(request.params.sessionId), request.ip);
        return reply.status(204).send(null);
      },
    });

    org.delete("/admin/orgs/:orgId/users/:userId/sessions", {
      permission: "sessions:revoke",
      schema: {
        tags,
        summary: "Revoke every session of one user in the org",
        params: OrgUserParams,
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        await revokeUserSessions(ctx, caller, orgId, Number(request.params.userId), request.ip);
        return reply.status(204).send(null);
      },
    });

    org.delete("/admin/orgs/:orgId/sessions", {
      permission: "sessions:revoke",
      schema: {
        tags,
        summary: "Revoke every session of the org, the caller's own included (an admin's call spares owners')",
        params: OrgParams,
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        await revokeOrgSessions(ctx, caller, orgId, request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
