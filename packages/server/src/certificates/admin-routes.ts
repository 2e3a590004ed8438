import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { CreateTrustedCaRequest, IdParam, TrustedCa } from "@tessera/protocol";
import { noContent } from "../access/route-schemas.ts";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { addTrustedCa, listTrustedCas, removeTrustedCa } from "./trusted-cas.ts";

const tags = adminTags("certificates");

/** contract §8: the CAs an org trusts for its service users' client certificates; effective at once. */
export function trustedCaAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/trusted-cas", {
      permission: "trusted-cas:read",
      schema: {
        tags,
        summary: "List the org's trusted certificate authorities",
        params: Type.Object({ orgId: IdParam }),
        response: { 200: Type.Array(TrustedCa) },
      },
      handler: ({ orgId }) => listTrustedCas(ctx, orgId),
    });

    org.post("/admin/orgs/:orgId/trusted-cas", {
      permission: "trusted-cas:write",
      schema: {
        tags,
        summary: "Trust a CA certificate (PEM) for service users' client certificates",
        params: Type.Object({ orgId: IdParam }),
        body: CreateTrustedCaRequest,
        response: { 201: TrustedCa },
      },
      handler: async ({ request, reply, caller, orgId }) => {
        const created = await addTrustedCa(ctx, caller, orgId, request.body.pem, request.ip);
        return reply.status(201).send(created);
      },
    });

    org.delete("/admin/orgs/:orgId/trusted-cas/:trustedCaId", {
      permission: "trusted-cas:write",
      schema: {
        tags,
        summary: "Stop trusting a CA (the next handshake under it is refused)",
        params: Type.Object({ orgId: IdParam, trustedCaId: IdParam }),
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        await removeTrustedCa(ctx, caller, orgId, Number(request.params.trustedCaId), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
