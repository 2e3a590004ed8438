import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { CreateOrgRequest, Org } from "@tessera/protocol";
import { authenticate } from "../access/principal.ts";
import { userSecurity } from "../access/route-schemas.ts";
import { adminTags } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { createOrg } from "./orgs.ts";

/** Creating organisations: the one admin route outside any org, open to system admins. */
export function orgAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/admin/orgs", {
      schema: {
        tags: adminTags("organisations"),
        summary: "Create an organisation (system admins); the caller becomes its owner",
        security: userSecurity,
        body: CreateOrgRequest,
        response: { 201: Org },
      },
      handler: async (request, reply) => {
        const caller = await authenticate(ctx, request);
        return reply.status(201).send(await createOrg(ctx, caller, request.body, request.ip));
      },
    });
  };
}
