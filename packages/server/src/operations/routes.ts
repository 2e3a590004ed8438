import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { authenticate } from "../access/principal.ts";
import type { AppContext } from "../context.ts";
import { databaseUnavailable } from "../errors/service-unavailable.ts";
import { TesseraError } from "../errors/tessera-error.ts";

const tags = ["Operations"];

export function operationsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/healthz", {
      schema: {
        tags,
        summary: "Liveness: the process answers",
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
      handler: async () => ({ status: "ok" as const }),
    });

    app.get("/readyz", {
      schema: {
        tags,
        summary: "Readiness: every listener of the roles served accepts connections, and the database is reachable",
        response: { 200: Type.Object({ status: Type.Literal("ready") }) },
      },
      handler: async () => {
        if (!ctx.readiness.listenersUp) {
          throw new TesseraError("service_unavailable", "The listeners are still starting", {
            headers: { "retry-after": "1" },
          });
        }
        if (!(await ctx.storage.ping())) throw databaseUnavailable();
        return { status: "ready" as const };
      },
    });

    if (ctx.config.metrics === "off") return;
    app.get("/metrics", {
      schema: {
        tags,
        summary: "Prometheus metrics",
        description: "TESSERA_METRICS=auditor: only with a token that grants audit:read; off: not served.",
        produces: ["text/plain"],
      },
      handler: async (request, reply) => {
        if (ctx.config.metrics === "auditor") await authenticate(ctx, request, "audit:read");
        const body = await ctx.metrics.registry.metrics();
        return reply.type(ctx.metrics.registry.contentType).send(body);
      },
    });
  };
}
