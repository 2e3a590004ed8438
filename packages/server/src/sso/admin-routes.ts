import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { OrgParams, PutSsoConfigRequest, SsoConfig } from "@tessera/protocol";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { getSsoConfig, putSsoConfig } from "./sso-config.ts";

const tags = adminTags("single sign-on");

/** An org's OpenID Connect sign-on settings; they are policies, under the policy permissions. */
export function ssoAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/sso", {
      permission: "policies:read",
      schema: {
        tags,
        summary: "The org's single sign-on settings (the client secret is never returned)",
        params: OrgParams,
        response: { 200: SsoConfig },
      },
      handler: ({ orgId }) => getSsoConfig(ctx, orgId),
    });

    org.put("/admin/orgs/:orgId/sso", {
      permission: "policies:write",
      schema: {
        tags,
        summary: "Replace the org's single sign-on settings; omit clientSecret to keep the stored one",
        params: OrgParams,
        body: PutSsoConfigRequest,
        response: { 200: SsoConfig },
      },
      handler: ({ request, caller, orgId }) => putSsoConfig(ctx, caller, orgId, request.body, request.ip),
    });
  };
}
