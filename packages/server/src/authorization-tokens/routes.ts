import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { IdmTokenQuery, IdmTokenResponse, Jwks } from "@tessera/protocol";
import { requireServiceSession } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { publishedKeys } from "./signing-keys.ts";
import { issueAuthorizationToken } from "./tokens.ts";

const tags = ["Authorization tokens"];

/** The permissions a `scope` asks for, narrowed to what the session holds. */
function narrowToScope(held: readonly string[], scope: string | undefined): readonly string[] {
  if (scope === undefined || scope.trim() === "") return held;
  const asked = new Set(scope.split(/\s+/).filter(Boolean));
  return held.filter((permission) => asked.has(permission));
}

/** contract §2–§3: fresh authorization tokens for live sessions, and the keys that verify them. */
export function authorizationTokenRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/login/idm/tokens", {
      schema: {
        tags,
        summary: "A fresh authorization token (JWT, at most 5 minutes) for a live service session",
        security: [{ sessionToken: [] }],
        querystring: IdmTokenQuery,
        response: { 200: IdmTokenResponse },
      },
      config: { errors: "symphony", carriesToken: true },
      handler: async (request) => {
        const session = await requireServiceSession(ctx, request.headers.sessiontoken, "service");
        const permissions = narrowToScope(session.permissions, request.query.scope);
        const issued = await issueAuthorizationToken(ctx, {
          userId: session.userId,
          orgId: session.orgId,
          sessionId: session.sessionId,
          permissions,
          sessionExpiresAt: session.expiresAt,
          ...(request.query.scope === undefined ? {} : { scope: permissions.join(" ") }),
        });
        return { token_type: "Bearer" as const, expires_in: issued.expiresIn, access_token: issued.token };
      },
    });

    const jwks = {
      schema: { tags, summary: "Public keys of authorization tokens (JWKS)", response: { 200: Jwks } },
      handler: async () => ({ keys: await publishedKeys(ctx.db, ctx.clock.now()) }),
    };
    app.get("/login/idm/keys", { ...jwks, config: { errors: "symphony" } });
    app.get("/.well-known/jwks.json", jwks);
  };
}
