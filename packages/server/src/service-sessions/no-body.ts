import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/**
 * Takes every body as raw bytes in this plugin scope, whatever its Content-Type, so that
 * the no-body rule decides (not a 415 from a missing parser).
 */
export function acceptAnyBodyAsBytes(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
}

/**
 * contract §3: the certificate authenticate calls carry no body (400 otherwise). Symphony's
 * official clients send `Content-Type: application/json` with an empty body, which is
 * accepted unless the strict setting asks for the letter of Symphony's reference: no Content-Type at all.
 */
export function assertNoRequestBody(ctx: AppContext, request: FastifyRequest): void {
  const body = request.body;
  if (Buffer.isBuffer(body) ? body.length > 0 : body !== undefined && body !== null) {
    throw new TesseraError("request_body_not_allowed", "This request must have no body");
  }
  const contentType = request.headers["content-type"];
  if (ctx.config.sessionauthStrictContentType && contentType !== undefined && contentType.trim() !== "") {
    throw new TesseraError(
      "request_body_not_allowed",
      "This server is in strict mode: the request must have no Content-Type header",
    );
  }
}
