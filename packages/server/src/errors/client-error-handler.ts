import { type IncomingMessage, type Server, STATUS_CODES } from "node:http";
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

/** Per socket: the request whose head was read, and the request line of the last TLS packet that began one. */
const headRead = new WeakMap<Socket, IncomingMessage>();
const lastTlsRequestLine = new WeakMap<Socket, RequestLine>();

/**
 * Lets the handler know which request it refuses when the failing packet does not say: a body
 * too slow (its head was read), or, on TLS, a head too large (a TLS record holds at most 16 KiB,
 * so such a head always fails in a later packet than its request line). Packets are watched
 * only on TLS sockets, whose bytes pass through JavaScript anyway: a listener on a plain socket
 * would take it off Node's native parsing path.
 */
export function watchRefusableRequests(server: Server, tls: boolean): void {
  server.on("request", (request: IncomingMessage) => headRead.set(request.socket, request));
  if (!tls) return;
  server.on("secureConnection", (socket: Socket) =>
    socket.on("data", (chunk: Buffer) => {
      const line = readRequestLine(chunk);
      if (line) lastTlsRequestLine.set(socket, line);
    }),
  );
}

/** The refused request's method and path, when known. */
function refusedRequest(error: ConnectionError, socket: Socket): RequestLine | undefined {
  const inPacket = readRequestLine((error as ConnectionError & { rawPacket?: Buffer | string }).rawPacket);
  if (inPacket) return inPacket;
  const incoming = headRead.get(socket);
  // A complete request is an earlier one on this connection: the refused one is still being read.
  if (incoming && !incoming.complete && incoming.method && incoming.url) {
    return { method: incoming.method, path: incoming.url };
  }
  return lastTlsRequestLine.get(socket);
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
  // Unknown when the head came in several packets on a plain socket: then no body, which is
  // right for HEAD and still a complete answer (status and headers) for any other method.
  const request = refusedRequest(error, socket);
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
