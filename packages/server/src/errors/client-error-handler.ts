import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ConnectionError, FastifyInstance } from "fastify";
import { problemBody } from "./error-handler.ts";
import { TesseraError } from "./tessera-error.ts";

/**
 * Requests that Node's HTTP parser refuses never reach a route. Fastify's default handler
 * answers them with its own JSON and logs the error with `rawPacket`, the request's raw bytes,
 * Authorization header included. This one answers problem+json and logs only the parser's code.
 */
export function handleClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  this.log.debug({ code: error.code }, "unparseable request");
  const problem =
    error.code === "HPE_HEADER_OVERFLOW"
      ? new TesseraError("request_header_too_large")
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new TesseraError("request_timeout")
        : new TesseraError("invalid_request", "The request is not valid HTTP/1.1");
  const body = JSON.stringify(problemBody(problem));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        "Content-Type: application/problem+json; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
