import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { CreateTrustedCaRequest, IdParam, TrustedCa } from "@tessera/protocol";
import { authenticateInOrg } from "../access/principal.ts";
import { noContent, userSecurity } from "../access/route-schemas.ts";
import type { AppContext } from "../context.ts";
import { addTrustedCa, listTrustedCas, removeTrustedCa } from "./trusted-cas.ts";

const tags = ["Administration: certificates"];

/** DESIGN §8: the CAs an org trusts for its service users' client certificates; effective at once. */
export function trustedCaAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/admin/orgs/:orgId/trusted-cas", {
      schema: {
        tags,
        summary: "List the org's trusted certificate authorities",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam }),
        response: { 200: Type.Array(TrustedCa) },
      },
      handler: async (request) => {
        const orgId = Number(request.params.orgId);
        await authenticateInOrg(ctx, request, orgId, "trusted-cas:read");
        return listTrustedCas(ctx, orgId);
      },
    });

    app.post("/admin/orgs/:orgId/trusted-cas", {
      schema: {
        tags,
        summary: "Trust a CA certificate (PEM) for service users' client certificates",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam }),
        body: CreateTrustedCaRequest,
        response: { 201: TrustedCa },
      },
      handler: async (request, reply) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "trusted-cas:write");
        const created = await addTrustedCa(ctx, principal, orgId, request.body.pem, request.ip);
        return reply.status(201).send(created);
      },
    });

    app.delete("/admin/orgs/:orgId/trusted-cas/:trustedCaId", {
      schema: {
        tags,
        summary: "Stop trusting a CA (the next handshake under it is refused)",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam, trustedCaId: IdParam }),
        response: noContent,
      },
      handler: async (request, reply) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "trusted-cas:write");
        await removeTrustedCa(ctx, principal, orgId, Number(request.params.trustedCaId), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
