import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AppContext } from "../context.ts";

/** DESIGN §8: org-scoped administration. */
export function adminRoutes(_ctx: AppContext): FastifyPluginAsyncTypebox {
  return async () => {};
}
