import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { OrgParams, PasswordPolicy, SessionPolicy } from "@tessera/protocol";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { readPasswordPolicy, readSessionPolicy, replacePasswordPolicy, replaceSessionPolicy } from "./policies.ts";

const tags = adminTags("policies");

/** An org's password and session policies, read and replaced whole. */
export function policyAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/password-policy", {
      permission: "policies:read",
      schema: { tags, summary: "The org's password policy", params: OrgParams, response: { 200: PasswordPolicy } },
      handler: ({ orgId }) => readPasswordPolicy(ctx.storage, orgId),
    });

    org.put("/admin/orgs/:orgId/password-policy", {
      permission: "policies:write",
      schema: {
        tags,
        summary: "Replace the org's password policy (the whole object)",
        params: OrgParams,
        body: PasswordPolicy,
        response: { 200: PasswordPolicy },
      },
      handler: ({ request, caller, orgId }) => replacePasswordPolicy(ctx, caller, orgId, request.body, request.ip),
    });

    org.get("/admin/orgs/:orgId/session-policy", {
      permission: "policies:read",
      schema: { tags, summary: "The org's session policy", params: OrgParams, response: { 200: SessionPolicy } },
      handler: ({ orgId }) => readSessionPolicy(ctx.storage, orgId),
    });

    org.put("/admin/orgs/:orgId/session-policy", {
      permission: "policies:write",
      schema: {
        tags,
        summary: "Replace the org's session policy (the whole object); applies to new sessions and renewals",
        params: OrgParams,
        body: SessionPolicy,
        response: { 200: SessionPolicy },
      },
      handler: ({ request, caller, orgId }) => replaceSessionPolicy(ctx, caller, orgId, request.body, request.ip),
    });
  };
}
