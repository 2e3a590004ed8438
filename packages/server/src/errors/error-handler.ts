import {
  type ErrorCode,
  errorCodes,
  type Problem,
  ProblemBody,
  problemType,
  SymphonyErrorBody,
} from "@tessera/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from "fastify";
import { databaseUnavailable } from "./service-unavailable.ts";
import { TesseraError } from "./tessera-error.ts";

/**
 * The body a route's errors take: RFC 9457 problem+json, or Symphony's `{code, message, reason}`
 * on the paths Tessera serves in Symphony's name, so that its clients read our errors unchanged.
 */
export type ErrorShape = "problem" | "symphony";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route's error shape, declared once: it picks both the answer and its documented schema. */
    errors?: ErrorShape;
  }
}

/** The documented 4xx body of each shape. */
const errorBodies = { problem: ProblemBody, symphony: SymphonyErrorBody } as const;

/**
 * First path segments of the Symphony routes (`/agent/`, `/pod/`, …), gathered as routes are
 * declared. They decide the shape of requests that match no route (a 404, a path Fastify cannot
 * decode). Held per process, not per listener: the key-manager listener, which serves only
 * `/keyauth/` and `/relay/`, still answers a stray `/pod/` request in Symphony's shape.
 */
const symphonyPathFamilies = new Set<string>();

function pathFamily(url: string): string {
  const end = url.indexOf("/", 1);
  return end === -1 ? url : url.slice(0, end + 1);
}

/** The shape of errors for `url` when no route declares one (no match, or not even parsed): its path family's. */
export function errorShapeOfPath(url: string): ErrorShape {
  return symphonyPathFamilies.has(pathFamily(url)) ? "symphony" : "problem";
}

/** The shape a request's errors take: its route's declaration, else that of its path family. */
function errorShapeOf(request: FastifyRequest): ErrorShape {
  return request.routeOptions.config.errors ?? errorShapeOfPath(request.url);
}

/** The media type and body of `error` in `shape`. */
export function errorPayload(shape: ErrorShape, error: TesseraError): { type: string; body: object } {
  return shape === "symphony"
    ? { type: "application/json", body: { code: error.status, message: error.message, reason: error.code } }
    : { type: "application/problem+json", body: problemBody(error) };
}

/**
 * Completes every route from its `config.errors` (problem+json unless it says "symphony"): the
 * declaration is filled in for the error handler, and its 4xx body joins the documented answers.
 */
function applyErrorShape(route: RouteOptions): void {
  const errors = route.config?.errors ?? "problem";
  route.config = { ...route.config, errors };
  if (errors === "symphony") symphonyPathFamilies.add(pathFamily(route.url));
  const response = route.schema?.response;
  // A route that documents no answer keeps OpenAPI's default one. New objects, never edits:
  // one options object may serve several routes.
  if (route.schema && typeof response === "object" && response !== null) {
    route.schema = { ...route.schema, response: { ...response, "4xx": errorBodies[errors] } };
  }
}

/** Fastify's own client-error codes, mapped onto the registry. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "malformed_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "malformed_json",
};

function toTesseraError(error: FastifyError | TesseraError | Error): TesseraError | undefined {
  if (error instanceof TesseraError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const inPath = fastifyError.validationContext === "params";
    return new TesseraError(inPath ? "invalid_id" : "invalid_request", fastifyError.message);
  }
  const mapped = fastifyError.code ? fastifyCodes[fastifyError.code] : undefined;
  if (mapped) return new TesseraError(mapped, fastifyError.message);
  if (error instanceof SyntaxError) return new TesseraError("malformed_json", "The request body is not valid JSON");
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const byStatus: Record<number, ErrorCode> = {
      404: "not_found",
      405: "method_not_allowed",
      413: "payload_too_large",
      415: "unsupported_media_type",
      429: "too_many_requests",
    };
    return new TesseraError(byStatus[status] ?? "invalid_request", fastifyError.message);
  }
  return undefined;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: TesseraError): FastifyReply {
  reply.headers(error.headers);
  // RFC 9110: every 401 names the scheme that would work.
  if (error.status === 401 && !reply.hasHeader("www-authenticate"))
    reply.header("www-authenticate", 'Bearer realm="tessera"');
  reply.status(error.status);
  const { type, body } = errorPayload(errorShapeOf(request), error);
  return reply.type(type).send(body);
}

/** The RFC 9457 body of `error`. */
export function problemBody(error: TesseraError): Problem {
  return {
    type: problemType(error.code),
    title: errorCodes[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...error.extensions,
  };
}

/** How the store classifies its own errors (the dialect's methods of the same names). */
export interface StoreErrorClassifier {
  isUnavailableError(error: unknown): boolean;
  isUniqueViolation(error: unknown): boolean;
}

/**
 * One place turns every failure into problem+json (or Symphony's shape on its routes).
 * The store's "cannot reach the database" errors become 503 with Retry-After, and a unique
 * violation (the loser of two concurrent creations) 409, never 500.
 */
export function registerErrorHandling(app: FastifyInstance, store: StoreErrorClassifier): void {
  app.addHook("onRoute", applyErrorShape);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = toTesseraError(error);
    if (known) return sendError(request, reply, known);
    if (store.isUniqueViolation(error)) {
      return sendError(request, reply, new TesseraError("conflict", "A concurrent request created the same resource"));
    }
    if (store.isUnavailableError(error)) {
      // Expected during a database restart or failover: one line, no stack.
      request.log.warn({ reason: error.message }, "database unavailable");
      return sendError(request, reply, databaseUnavailable());
    }
    // Unknown failures are logged with their stack and answered without detail.
    request.log.error({ err: error }, "unhandled error");
    return sendError(request, reply, new TesseraError("internal_error"));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new TesseraError("not_found", `No route for ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}
