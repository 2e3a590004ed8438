import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { InvitationList, InvitationParams, OrgMembership } from "@tessera/protocol";
import { authenticate } from "../access/principal.ts";
import { noContent } from "../access/route-schemas.ts";
import type { AppContext } from "../context.ts";
import { acceptInvitation, declineInvitation, listInvitations } from "./invitations.ts";

const tags = ["User sessions"];
const security = [{ bearerAuth: [] }];

/** An account's answers to other orgs' invitations, given with its own user session. */
export function invitationRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/user/invitations", {
      schema: {
        tags,
        summary: "The caller's invitations into other orgs, waiting for an answer",
        security,
        response: { 200: InvitationList },
      },
      handler: async (request) => listInvitations(ctx, await authenticate(ctx, request, "self:read")),
    });

    app.post("/user/invitations/:invitationId/accept", {
      schema: {
        tags,
        summary: "Accept an invitation: the membership becomes active",
        security,
        params: InvitationParams,
        response: { 200: OrgMembership },
      },
      handler: async (request) => {
        const caller = await authenticate(ctx, request, "self:write");
        return acceptInvitation(ctx, caller, Number(request.params.invitationId), request.ip);
      },
    });

    app.post("/user/invitations/:invitationId/decline", {
      schema: {
        tags,
        summary: "Decline an invitation: it is removed",
        security,
        params: InvitationParams,
        response: noContent,
      },
      handler: async (request, reply) => {
        const caller = await authenticate(ctx, request, "self:write");
        await declineInvitation(ctx, caller, Number(request.params.invitationId), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
