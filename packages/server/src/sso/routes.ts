import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import { IdParam, SessionTokenResponse, SsoCallbackQuery, SsoLoginQuery, SsoTokenRequest } from "@tessera/protocol";
import type { FastifyReply } from "fastify";
import type { AppContext } from "../context.ts";
import { completeSsoLogin, startSsoLogin } from "./flow.ts";
import { exchangeHandover } from "./handover.ts";
import { redirectUriFor } from "./urls.ts";

const ssoTags = ["Single sign-on"];
const OrgParams = Type.Object({ orgId: IdParam });
const Redirect = Type.Null({ description: "Redirect: see the Location header" });

/** Reads the Cookie header into a map (Tessera sets only its own sign-on binding cookies). */
function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const separator = part.indexOf("=");
    if (separator > 0) cookies[part.slice(0, separator).trim()] = part.slice(separator + 1).trim();
  }
  return cookies;
}

/** Sign-on answers carry one-time values: never cached, never sent on as a Referer. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply
    .header("cache-control", "no-store")
    .header("pragma", "no-cache")
    .header("referrer-policy", "no-referrer");
}

/** Per-org OpenID Connect single sign-on and its handover (its settings: admin-routes.ts). */
export function ssoRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/sso/:orgId/login", {
      schema: {
        tags: ssoTags,
        summary: "Start a sign-on: redirects the browser to the org's identity provider",
        description:
          "returnTo (optional) must be allow-listed for the org, or a loopback URL http://127.0.0.1:<port>/…; the sign-on then ends with a redirect there carrying ?code=<handover code> (exchange it at POST /sso/token) or ?error=<code>. Without returnTo, the callback answers the session token JSON.",
        params: OrgParams,
        querystring: SsoLoginQuery,
        response: { 302: Redirect },
      },
      handler: async (request, reply) => {
        const start = await startSsoLogin(
          ctx,
          Number(request.params.orgId),
          request.query,
          redirectUriFor(ctx, request),
          request.ip,
        );
        const { cookie } = start;
        const attributes = `Path=/sso/callback; Max-Age=${cookie.maxAgeSeconds}; HttpOnly; SameSite=Lax${cookie.secure ? "; Secure" : ""}`;
        return noStore(reply)
          .header("set-cookie", `${cookie.name}=${cookie.value}; ${attributes}`)
          .redirect(start.location, 302);
      },
    });

    app.get("/sso/callback", {
      schema: {
        tags: ssoTags,
        summary: "Where the identity provider sends the browser back (the redirect URI to register)",
        querystring: SsoCallbackQuery,
        response: { 200: SessionTokenResponse, 302: Redirect },
      },
      handler: async (request, reply) => {
        const outcome = await completeSsoLogin(ctx, request.query, parseCookies(request.headers.cookie), request.ip);
        noStore(reply);
        if (outcome.kind === "redirect") return reply.redirect(outcome.location, 302);
        return outcome.session;
      },
    });

    app.post("/sso/token", {
      schema: {
        tags: ssoTags,
        summary: "Exchange a single-use handover code for the session token",
        body: SsoTokenRequest,
        response: { 200: SessionTokenResponse },
      },
      handler: async (request, reply) => {
        noStore(reply);
        return exchangeHandover(ctx, request.body.code, request.body.handoverVerifier, request.ip);
      },
    });
  };
}
