import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ConnectionError, FastifyInstance } from "fastify";
import { errorPayload, errorShapeOfPath } from "./error-handler.ts";
import { TesseraError } from "./tessera-error.ts";

interface RequestLine {
  method: string;
  path: string;
}

/** The request line at the start of a packet: method and origin-form target. */
const requestLinePattern = /^([A-Z]+) (\/\S*) HTTP\//;

function readRequestLine(packet: Buffer | string | undefined): RequestLine | undefined {
  if (packet === undefined) return undefined;
  const start = typeof packet === "string" ? packet.slice(0, 8192) : packet.subarray(0, 8192).toString("latin1");
  const match = requestLinePattern.exec(start);
  return match?.[1] && match[2] ? { method: match[1], path: match[2] } : undefined;
}

const lastRequestLine = new WeakMap<Socket, RequestLine>();

/**
 * Remembers the request line of each packet that starts one. A TLS record holds at most 16 KiB,
 * so a head too large always fails in a later packet than its request line. Only for TLS
 * sockets, whose bytes pass through JavaScript anyway: a listener on a plain socket would take
 * it off Node's native parsing path.
 */
export function rememberRequestLines(socket: Socket): void {
  socket.on("data", (chunk: Buffer) => {
    const line = readRequestLine(chunk);
    if (line) lastRequestLine.set(socket, line);
  });
}

/**
 * Requests that Node's HTTP parser refuses never reach a route. Fastify's default handler
 * answers them with its own JSON and logs the error with `rawPacket`, the request's raw bytes,
 * Authorization header included. This one answers in the error shape of the request's path
 * (Symphony's on its prefixes), sends no body to HEAD, and logs only the parser's code.
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
  const packet = (error as ConnectionError & { rawPacket?: Buffer | string }).rawPacket;
  // Unknown when the head came in several packets on a plain socket: then no body, which is
  // right for HEAD and still a complete answer (status and headers) for any other method.
  const request = readRequestLine(packet) ?? lastRequestLine.get(socket);
  const { type, body } = errorPayload(errorShapeOfPath(request?.path ?? "/"), problem);
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        `Content-Type: ${type}; charset=utf-8\r\n` +
        `Content-Length: ${request === undefined ? 0 : Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n` +
        // A HEAD answer is its head alone (RFC 9110): a body would be read as the next answer.
        (request === undefined || request.method === "HEAD" ? "" : text),
    );
  }
  socket.destroy();
}
