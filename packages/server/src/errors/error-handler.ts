import { type ErrorCode, errorCodes, type Problem, problemType } from "@tessera/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { TesseraError } from "./tessera-error.ts";

/** Paths that speak Symphony's error shape, so its clients read our errors unchanged (DESIGN §3). */
const symphonyPrefixes = ["/sessionauth/", "/keyauth/", "/login/", "/pod/", "/agent/", "/relay/"];

export function usesSymphonyErrors(url: string): boolean {
  return symphonyPrefixes.some((prefix) => url.startsWith(prefix));
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
  if (usesSymphonyErrors(request.url)) {
    return reply.type("application/json").send({ code: error.status, message: error.message, reason: error.code });
  }
  const body: Problem = {
    type: problemType(error.code),
    title: errorCodes[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    ...error.extensions,
  };
  return reply.type("application/problem+json").send(body);
}

/** One place turns every failure into problem+json (or Symphony's shape on its paths). */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = toTesseraError(error);
    if (known) return sendError(request, reply, known);
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
