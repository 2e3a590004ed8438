import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { AuditEventList, AuditQuery, OrgParams } from "@tessera/protocol";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { auditPage, listAuditEvents } from "./audit.ts";

/** An org's audit trail, paged forward by event id. */
export function auditAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    orgRoutes(app, ctx).get("/admin/orgs/:orgId/audit", {
      permission: "audit:read",
      schema: {
        tags: adminTags("audit"),
        summary: "The org's audit events with id > after, oldest first (newest last)",
        params: OrgParams,
        querystring: AuditQuery,
        response: { 200: AuditEventList },
      },
      handler: ({ request, orgId }) => listAuditEvents(ctx, orgId, auditPage(request.query)),
    });
  };
}
