import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  CreatedIntrospectionClient,
  CreateIntrospectionClientRequest,
  IntrospectionClientList,
  OrgParams,
  OrgResourceParams,
} from "@tessera/protocol";
import { noContent } from "../access/route-schemas.ts";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import {
  createIntrospectionClient,
  listIntrospectionClients,
  removeIntrospectionClient,
} from "./introspection-clients.ts";

const tags = adminTags("introspection clients");

/**
 * An org's introspection clients. They are credentials like API keys, so the API-key permissions
 * govern them: admins and owners manage them, auditors cannot.
 */
export function introspectionClientAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/introspection-clients", {
      permission: "api-keys:read",
      schema: {
        tags,
        summary: "List the org's introspection clients (never their secrets)",
        params: OrgParams,
        response: { 200: IntrospectionClientList },
      },
      handler: ({ orgId }) => listIntrospectionClients(ctx, orgId),
    });

    org.post("/admin/orgs/:orgId/introspection-clients", {
      permission: "api-keys:write",
      schema: {
        tags,
        summary: "Register a resource server for POST /oauth2/introspect; the secret is shown once",
        params: OrgParams,
        body: CreateIntrospectionClientRequest,
        response: { 201: CreatedIntrospectionClient },
      },
      config: { carriesToken: true },
      handler: async ({ request, reply, caller, orgId }) => {
        const created = await createIntrospectionClient(ctx, caller, orgId, request.body.name, request.ip);
        return reply.status(201).send(created);
      },
    });

    org.delete("/admin/orgs/:orgId/introspection-clients/:id", {
      permission: "api-keys:write",
      schema: {
        tags,
        summary: "Remove an introspection client; its next introspection is refused",
        params: OrgResourceParams,
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        await removeIntrospectionClient(ctx, caller, orgId, Number(request.params.id), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
