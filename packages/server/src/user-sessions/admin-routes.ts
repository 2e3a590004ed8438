import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { ApiKeyList, OrgParams, OrgResourceParams } from "@tessera/protocol";
import { noContent } from "../access/route-schemas.ts";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { listApiKeys, revokeApiKey } from "./api-keys.ts";

const tags = adminTags("API keys");

/** An org's API keys, listed and revoked (they are created with `POST /user/apiKey`). */
export function apiKeyAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/api-keys", {
      permission: "api-keys:read",
      schema: {
        tags,
        summary: "List the org's API keys (never the keys themselves)",
        params: OrgParams,
        response: { 200: ApiKeyList },
      },
      handler: ({ orgId }) => listApiKeys(ctx, orgId),
    });

    org.delete("/admin/orgs/:orgId/api-keys/:id", {
      permission: "api-keys:write",
      schema: {
        tags,
        summary: "Revoke an API key; it answers 401 from its next use",
        params: OrgResourceParams,
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        await revokeApiKey(ctx, caller, orgId, Number(request.params.id), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
