import type { FastifyInstance, onSendHookHandler, RouteOptions } from "fastify";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * The route answers with a token (a login, a renewal, a new API key, an introspection): its
     * answers are never stored by a browser or a shared cache (RFC 9111 `no-store`, and HTTP/1.0's
     * `Pragma: no-cache` for old proxies).
     */
    carriesToken?: boolean;
  }
}

const neverStore: onSendHookHandler = async (_request, reply, payload) => {
  reply.header("cache-control", "no-store");
  reply.header("pragma", "no-cache");
  return payload;
};

/** Gives each route declared with `config: { carriesToken: true }` the no-store headers, on every answer. */
function applyTokenAnswerHeaders(route: RouteOptions): void {
  if (route.config?.carriesToken !== true) return;
  const own = route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend];
  route.onSend = [...own, neverStore];
}

/** Call on each listener's app before its routes are registered. */
export function registerTokenAnswerHeaders(app: FastifyInstance): void {
  app.addHook("onRoute", applyTokenAnswerHeaders);
}
