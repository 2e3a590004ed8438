import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { IntrospectionResponse as IntrospectionAnswer } from "@tessera/protocol";
import { IntrospectionRequest, IntrospectionResponse, type Permission, permissions } from "@tessera/protocol";
import type { FastifyRequest } from "fastify";
import { authenticate } from "../access/principal.ts";
import { userSecurity } from "../access/route-schemas.ts";
import { requireServiceSession } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { identifyToken, type TokenIdentity } from "./identify-token.ts";
import { authenticateIntrospectionClient, invalidClient } from "./introspection-clients.ts";

const tags = ["Resource servers"];

function introspection(ctx: AppContext, identity: TokenIdentity): IntrospectionAnswer {
  return {
    active: true,
    token_type: identity.tokenType,
    sub: String(identity.userId),
    username: identity.username,
    org: identity.orgId,
    ...(identity.sessionId === null ? {} : { sid: identity.sessionId }),
    role: identity.role,
    scope: identity.permissions.join(" "),
    ...(identity.issuedAt === null ? {} : { iat: Math.floor(identity.issuedAt / 1000) }),
    ...(identity.expiresAt === null ? {} : { exp: Math.floor(identity.expiresAt / 1000) }),
    iss: ctx.config.issuer,
  };
}

const basicPattern = /^basic[ \t]+([A-Za-z0-9+/=]*)[ \t]*$/i;

/** RFC 6749 §2.3.1: client id and secret are form-encoded before Basic joins them. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, " "));
}

/** A `client_secret_basic` header's id and secret; 401 invalid_client when it cannot be read. */
function basicCredentials(authorization: string): { clientId: string; clientSecret: string } {
  const encoded = basicPattern.exec(authorization)?.[1];
  const decoded = encoded === undefined ? "" : Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  try {
    if (colon > 0)
      return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    // A broken percent-encoding is as unreadable as a missing colon.
  }
  throw invalidClient("The Basic credentials cannot be read");
}

/**
 * The org whose tokens the caller may introspect: a registered introspection client
 * (`client_secret_basic` or `client_secret_post`, never both, as RFC 6749 §2.3 asks), a service
 * user's own `sessionToken`, or a user session or API key; the last two need `tokens:introspect`.
 */
async function introspectingOrg(ctx: AppContext, request: FastifyRequest): Promise<number> {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const authorization = request.headers.authorization;
  const viaBasic = typeof authorization === "string" && /^basic(?:[ \t]|$)/i.test(authorization);
  const viaPost = body.client_id !== undefined || body.client_secret !== undefined;
  if (viaBasic && viaPost) {
    throw new TesseraError("invalid_request", "Send the client credentials one way: Basic or form fields");
  }
  if (viaBasic) {
    const { clientId, clientSecret } = basicCredentials(authorization);
    return (await authenticateIntrospectionClient(ctx, clientId, clientSecret)).orgId;
  }
  if (viaPost) {
    if (typeof body.client_id !== "string" || typeof body.client_secret !== "string") {
      throw invalidClient("client_secret_post needs both client_id and client_secret");
    }
    return (await authenticateIntrospectionClient(ctx, body.client_id, body.client_secret)).orgId;
  }
  const sessionToken = request.headers.sessiontoken;
  if (sessionToken !== undefined && authorization === undefined && request.headers["x-api-key"] === undefined) {
    const session = await requireServiceSession(ctx, sessionToken, "service");
    if (!session.permissions.includes("tokens:introspect")) {
      throw new TesseraError("forbidden", `The role "${session.role}" does not grant tokens:introspect`);
    }
    return session.orgId;
  }
  return (await authenticate(ctx, request, "tokens:introspect")).orgId;
}

/** The token a reverse proxy forwards: Bearer (any kind), x-api-key, or Symphony's sessionToken header. */
function presentedToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === "string") {
    const match = /^bearer[ \t]+([^\s]+)[ \t]*$/i.exec(authorization);
    if (match?.[1]) return match[1];
  }
  for (const name of ["x-api-key", "sessiontoken", "keymanagertoken"]) {
    const value = headers[name];
    if (typeof value === "string" && value !== "") return value;
  }
  return undefined;
}

const ForwardAuthQuery = Type.Object(
  {
    permission: Type.Optional(
      Type.String({ maxLength: 500, description: "Comma-separated permissions the token must grant (403 otherwise)" }),
    ),
    org: Type.Optional(
      Type.String({ pattern: "^[1-9][0-9]{0,14}$", description: "The org the token must belong to (403 otherwise)" }),
    ),
  },
  { additionalProperties: true },
);

/** contract §3 "For resource servers": RFC 7662 introspection and forward-auth for reverse proxies. */
export function resourceServerRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    // RFC 7662 callers post a form; JSON is accepted too.
    app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(typeof body === "string" ? body : body.toString("utf8"))));
    });

    app.post("/oauth2/introspect", {
      schema: {
        tags,
        summary: "RFC 7662 token introspection, for every Tessera token kind",
        description:
          "The caller is a registered introspection client of the org (client_secret_basic or client_secret_post), or a bearer token, API key or service sessionToken whose role grants tokens:introspect. Tokens of another org, and dead tokens, are {active: false}.",
        security: [...userSecurity, { sessionToken: [] }, { introspectionClient: [] }],
        body: IntrospectionRequest,
        response: { 200: IntrospectionResponse },
      },
      config: { carriesToken: true },
      handler: async (request) => {
        const orgId = await introspectingOrg(ctx, request);
        const identity = await identifyToken(ctx, request.body.token);
        if (!identity || identity.orgId !== orgId) return { active: false };
        return introspection(ctx, identity);
      },
    });

    app.route({
      method: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      url: "/auth/forward",
      schema: {
        tags,
        summary: "Forward-auth for reverse proxies (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz)",
        description:
          "200 with X-Tessera-* identity headers when the forwarded token is live (and grants ?permission=…, and belongs to ?org=…), 401 when it is missing or dead, 403 when it lacks the permission or belongs to another org. A username outside printable ASCII is sent percent-encoded (UTF-8) with X-Tessera-Username-Encoding: percent.",
        querystring: ForwardAuthQuery,
        security: [{ bearerAuth: [] }, { apiKey: [] }, { sessionToken: [] }],
        response: { 200: Type.Object({ userId: Type.Integer(), orgId: Type.Integer() }) },
      },
      // Identity answers, per token: a proxy must not cache them.
      config: { carriesToken: true },
      handler: async (request, reply) => {
        const required = parsePermissions(request.query.permission);
        const token = presentedToken(request.headers);
        const identity = token === undefined ? undefined : await identifyToken(ctx, token);
        if (!identity) {
          throw new TesseraError(
            "invalid_token",
            token === undefined ? "No token was forwarded" : "The token is not live",
            {
              headers: {
                "www-authenticate":
                  token === undefined ? 'Bearer realm="tessera"' : 'Bearer realm="tessera", error="invalid_token"',
              },
            },
          );
        }
        const missing = required.filter((permission) => !identity.permissions.includes(permission));
        if (missing.length > 0) {
          throw new TesseraError("forbidden", `The token does not grant ${missing.join(", ")}`);
        }
        if (request.query.org !== undefined && Number(request.query.org) !== identity.orgId) {
          throw new TesseraError("forbidden", "The token belongs to another organisation");
        }
        reply.headers({
          "x-tessera-user-id": String(identity.userId),
          ...usernameHeaders(identity.username),
          "x-tessera-org-id": String(identity.orgId),
          "x-tessera-role": identity.role,
          "x-tessera-permissions": identity.permissions.join(" "),
          "x-tessera-token-type": identity.tokenType,
        });
        return { userId: identity.userId, orgId: identity.orgId };
      },
    });
  };
}

/** Printable ASCII: what every proxy and HTTP library carries in a header unchanged. */
const printableAscii = /^[\x20-\x7e]*$/;

/**
 * The username as identity headers: as it is when it is printable ASCII; otherwise (`用户@…`,
 * `josé@…`) percent-encoded UTF-8 (as encodeURIComponent), with `X-Tessera-Username-Encoding:
 * percent` saying so. Node refuses other characters in a header, and Latin-1 would arrive garbled.
 */
function usernameHeaders(username: string): Record<string, string> {
  if (printableAscii.test(username)) return { "x-tessera-username": username };
  return { "x-tessera-username": encodeURIComponent(username), "x-tessera-username-encoding": "percent" };
}

function parsePermissions(value: string | undefined): Permission[] {
  if (value === undefined || value.trim() === "") return [];
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(permissions as readonly string[]).includes(name)) {
      throw new TesseraError("invalid_request", `Unknown permission "${name}"`);
    }
  }
  return names as Permission[];
}
