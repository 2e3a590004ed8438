import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  CreateOrgUserRequest,
  OrgParams,
  OrgUser,
  OrgUserList,
  OrgUserParams,
  UpdateOrgUserRequest,
} from "@tessera/protocol";
import { noContent } from "../access/route-schemas.ts";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { createOrgUser, listOrgUsers, updateOrgUser } from "./org-users.ts";
import { unlockUser } from "./unlock.ts";

const tags = adminTags("users");

/** An org's users and their memberships. */
export function userAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/users", {
      permission: "users:read",
      schema: {
        tags,
        summary: "List the org's users and their memberships",
        params: OrgParams,
        response: { 200: OrgUserList },
      },
      handler: ({ orgId }) => listOrgUsers(ctx, orgId),
    });

    org.post("/admin/orgs/:orgId/users", {
      permission: "users:write",
      schema: {
        tags,
        summary:
          "Add a user (person or service user) to the org; an account of another org is invited instead (same answer, inactive until it accepts)",
        params: OrgParams,
        body: CreateOrgUserRequest,
        response: { 201: OrgUser },
      },
      handler: async ({ request, reply, caller, orgId }) =>
        reply.status(201).send(await createOrgUser(ctx, caller, orgId, request.body, request.ip)),
    });

    org.patch("/admin/orgs/:orgId/users/:userId", {
      permission: "users:write",
      schema: {
        tags,
        summary: "Change a member's role or activate/deactivate the membership; felt on the next request",
        params: OrgUserParams,
        body: UpdateOrgUserRequest,
        response: { 200: OrgUser },
      },
      handler: ({ request, caller, orgId }) =>
        updateOrgUser(ctx, caller, orgId, Number(request.params.userId), request.body, request.ip),
    });

    org.post("/admin/orgs/:orgId/users/:userId/unlock", {
      permission: "users:write",
      schema: {
        tags,
        summary: "End a member's lockout after failed logins (system admins: any account)",
        params: OrgUserParams,
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        await unlockUser(ctx, caller, orgId, Number(request.params.userId), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
