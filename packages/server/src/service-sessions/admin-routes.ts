import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { Application, CreateApplicationRequest, IdParam, UpdateApplicationRequest } from "@tessera/protocol";
import { authenticateInOrg } from "../access/principal.ts";
import { problemResponses, userSecurity } from "../access/route-schemas.ts";
import type { AppContext } from "../context.ts";
import { createApplication, listApplications, updateApplication } from "./applications.ts";

const tags = ["Administration: service users"];

/** DESIGN §8: applications, whose names service users cannot hold while they are live. */
export function applicationAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/admin/orgs/:orgId/apps", {
      schema: {
        tags,
        summary: "List the org's applications",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam }),
        response: { 200: Type.Array(Application), ...problemResponses },
      },
      handler: async (request) => {
        const orgId = Number(request.params.orgId);
        await authenticateInOrg(ctx, request, orgId, "apps:read");
        return listApplications(ctx, orgId);
      },
    });

    app.post("/admin/orgs/:orgId/apps", {
      schema: {
        tags,
        summary: "Create an application (name, manifest certificate, enabled)",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam }),
        body: CreateApplicationRequest,
        response: { 201: Application, ...problemResponses },
      },
      handler: async (request, reply) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "apps:write");
        return reply.status(201).send(await createApplication(ctx, principal, orgId, request.body, request.ip));
      },
    });

    app.patch("/admin/orgs/:orgId/apps/:appId", {
      schema: {
        tags,
        summary: "Enable, disable or mark an application for deletion",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam, appId: IdParam }),
        body: UpdateApplicationRequest,
        response: { 200: Application, ...problemResponses },
      },
      handler: async (request) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "apps:write");
        return updateApplication(ctx, principal, orgId, Number(request.params.appId), request.body, request.ip);
      },
    });
  };
}
