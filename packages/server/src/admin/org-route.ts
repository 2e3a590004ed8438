import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { TObject, TString } from "@sinclair/typebox";
import type { Permission } from "@tessera/protocol";
import type {
  ContextConfigDefault,
  FastifyContextConfig,
  FastifySchema,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from "fastify";
import { authenticate, type Principal } from "../access/principal.ts";
import { userSecurity } from "../access/route-schemas.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/** The Fastify instance a route plugin receives. */
export type RouteApp = Parameters<FastifyPluginAsyncTypebox>[0];

/** The one spelling of administration tags in the OpenAPI document: `Administration: <area>`. */
export function adminTags(area: string): string[] {
  return [`Administration: ${area}`];
}

/** The schema of an org-scoped route: its path parameters hold the org id (validated as an id). */
export interface OrgRouteSchema extends FastifySchema {
  params: TObject & { properties: { orgId: TString } };
}

/** Fastify's handler for a route of schema `S`, with request and reply typed from it. */
type RouteHandler<S extends FastifySchema> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  S,
  TypeBoxTypeProvider
>;

/** What an org route's handler is given: the request, its reply, and who calls in which org. */
export interface OrgCall<S extends OrgRouteSchema> {
  request: Parameters<RouteHandler<S>>[0];
  reply: Parameters<RouteHandler<S>>[1];
  /** Authenticated, holding `permission`, and a member of `orgId`. */
  caller: Principal;
  orgId: number;
}

export interface OrgRouteOptions<S extends OrgRouteSchema> {
  /** What the caller's role must grant in the org of the path. */
  permission: Permission;
  /** Tags, summary, params (with `orgId`), body, query and success responses; security is implied. */
  schema: S;
  /** Route flags, such as `carriesToken` for an answer that holds a secret. */
  config?: FastifyContextConfig;
  handler: (call: OrgCall<S>) => ReturnType<RouteHandler<S>>;
}

type OrgUrl = `/admin/orgs/:orgId${string}`;

export interface OrgRoutes {
  get<S extends OrgRouteSchema>(url: OrgUrl, options: OrgRouteOptions<S>): void;
  post<S extends OrgRouteSchema>(url: OrgUrl, options: OrgRouteOptions<S>): void;
  put<S extends OrgRouteSchema>(url: OrgUrl, options: OrgRouteOptions<S>): void;
  patch<S extends OrgRouteSchema>(url: OrgUrl, options: OrgRouteOptions<S>): void;
  delete<S extends OrgRouteSchema>(url: OrgUrl, options: OrgRouteOptions<S>): void;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Org-scoped administration routes on `app`. Each one authenticates once, before its handler
 * runs, against the org in its path: a missing or dead token is 401, a role without the
 * route's permission 403, then a token of another org 403. The handler receives the caller
 * and the org id, so it never reads either from the request.
 */
export function orgRoutes(app: RouteApp, ctx: AppContext): OrgRoutes {
  const on =
    (method: Method) =>
    <S extends OrgRouteSchema>(url: OrgUrl, options: OrgRouteOptions<S>): void =>
      addOrgRoute(app, ctx, method, url, options);
  return { get: on("GET"), post: on("POST"), put: on("PUT"), patch: on("PATCH"), delete: on("DELETE") };
}

function addOrgRoute<S extends OrgRouteSchema>(
  app: RouteApp,
  ctx: AppContext,
  method: Method,
  url: OrgUrl,
  options: OrgRouteOptions<S>,
): void {
  const authorized = new WeakMap<object, { caller: Principal; orgId: number }>();
  app.route<RouteGenericInterface, ContextConfigDefault, S>({
    method,
    url,
    schema: { ...options.schema, security: userSecurity },
    ...(options.config ? { config: options.config } : {}),
    // After the schema has validated the request, as a handler would.
    preHandler: async (request) => {
      // Validated as at most 15 digits: exact as a number.
      const orgId = Number(orgIdParam(request.params));
      const caller = await authenticate(ctx, request, options.permission);
      if (caller.orgId !== orgId) throw new TesseraError("forbidden", "The token belongs to another organisation");
      authorized.set(request, { caller, orgId });
    },
    handler: (request, reply) => {
      const scope = authorized.get(request);
      if (!scope) throw new Error("An org route ran its handler without its preHandler");
      return options.handler({ request, reply, ...scope });
    },
  });
}

/** `params.orgId`, which `OrgRouteSchema` requires (TypeScript cannot see it through a generic schema). */
function orgIdParam(params: unknown): string {
  if (typeof params === "object" && params !== null && "orgId" in params && typeof params.orgId === "string") {
    return params.orgId;
  }
  throw new Error("An org route was declared without params.orgId");
}
