import type { Server as HttpsServer } from "node:https";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { tokenPrefixes } from "@tessera/protocol";
import Fastify, { type FastifyHttpsOptions, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { DestinationStream } from "pino";
import type { AppContext } from "../context.ts";
import { handleClientError, watchRefusableRequests } from "../errors/client-error-handler.ts";
import { registerErrorHandling, sendError } from "../errors/error-handler.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/** Header and body paths whose values never reach a log line. */
export const redactedLogPaths = [
  "req.headers.authorization",
  'req.headers["x-api-key"]',
  "req.headers.sessiontoken",
  "req.headers.keymanagertoken",
  "req.headers.cookie",
  "*.password",
  "*.currentPassword",
  "*.newPassword",
  "*.token",
  "*.apiKey",
  "*.clientSecret",
];

/** A Tessera token (any of its prefixes) or a JWT (three base64url parts) anywhere in a text. */
const tokenShaped = new RegExp(
  `(?:${Object.values(tokenPrefixes).join("|")})[A-Za-z0-9_-]{8,}|[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*`,
);

/**
 * Query parameters whose values are secrets by their name, whatever their shape: the identity
 * provider's code and the sign-on state on /sso/callback, and tokens, keys or passwords that
 * some clients put in URLs.
 */
const secretParameterName = /token|key|secret|pass|code|state|verifier|assertion|signature|auth|credential|session/i;

function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

function holdsToken(text: string): boolean {
  return tokenShaped.test(text) || tokenShaped.test(decodedOrRaw(text));
}

/**
 * A request URL as it may be logged: path segments that hold a token, the values of secret
 * query parameters, and every query value that holds a token (even percent-encoded inside
 * another URL) are replaced.
 */
export function loggableUrl(url: string): string {
  const queryStart = url.indexOf("?");
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  const loggedPath = path
    .split("/")
    .map((segment) => (holdsToken(segment) ? "[redacted]" : segment))
    .join("/");
  if (queryStart === -1) return loggedPath;
  const loggedQuery = url
    .slice(queryStart + 1)
    .split("&")
    .map((parameter) => {
      const equals = parameter.indexOf("=");
      const name = equals === -1 ? parameter : parameter.slice(0, equals);
      if (equals === -1) return holdsToken(name) ? "[redacted]" : parameter;
      const secret = secretParameterName.test(decodedOrRaw(name)) || holdsToken(parameter.slice(equals + 1));
      return secret ? `${holdsToken(name) ? "[redacted]" : name}=[redacted]` : parameter;
    })
    .join("&");
  return `${loggedPath}?${loggedQuery}`;
}

export interface TlsServerOptions {
  key: string;
  cert: string;
}

export interface CreateFastifyOptions {
  logStream?: DestinationStream | undefined;
  /**
   * Serve HTTPS and request a client certificate. The handshake accepts any certificate (or
   * none): the routes check it, so that a refusal is a JSON answer with its reason.
   */
  mutualTls?: TlsServerOptions;
}

/** A Fastify instance with Tessera's logger, JSON parsing, error shapes and metrics; no routes. */
export function createFastify(ctx: AppContext, options: CreateFastifyOptions = {}): FastifyInstance {
  const common: FastifyServerOptions = {
    logger: {
      level: ctx.config.logLevel,
      redact: { paths: redactedLogPaths, censor: "[redacted]" },
      serializers: {
        req: (request) => ({
          method: request.method,
          url: loggableUrl(request.url),
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: ctx.config.bodyLimit,
    // A client must send its whole request in time (a slow body is cut with 408); the idle
    // timeout closes silent connections and outlasts a datafeed long-poll, whose request has
    // been received in full and so is no longer under the request timeout.
    requestTimeout: ctx.config.requestTimeoutMs,
    connectionTimeout: ctx.config.idleTimeoutMs,
    trustProxy: ctx.config.trustProxy ?? false,
    // Bodies keep their JSON types: "1" is not an integer here, and unknown fields are refused
    // where a schema says additionalProperties: false.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    clientErrorHandler: handleClientError,
    // Errors Fastify raises before routing (a path with bad percent-encoding, an over-long
    // parameter) get the same answer shape as every other client mistake.
    frameworkErrors: (error, request, reply) =>
      sendError(request, reply, new TesseraError("invalid_request", `The request URL is not valid: ${error.message}`)),
  };
  const deadlines = {
    requestTimeout: ctx.config.requestTimeoutMs,
    headersTimeout: ctx.config.headersTimeoutMs,
    // How often Node looks for requests past these deadlines (30 s by default, longer than they may be).
    connectionsCheckingInterval: Math.min(1_000, Math.ceil(ctx.config.headersTimeoutMs / 2)),
  };
  const app = (
    options.mutualTls
      ? // One cast: Fastify types an HTTPS instance separately, but every route and plugin here
        // is server-agnostic (handlers read the TLS socket through request.raw.socket).
        (Fastify<HttpsServer>({
          ...common,
          https: { ...options.mutualTls, ...deadlines, requestCert: true, rejectUnauthorized: false },
        } as FastifyHttpsOptions<HttpsServer>) as unknown as FastifyInstance)
      : Fastify({ ...common, http: deadlines })
  ).withTypeProvider<TypeBoxTypeProvider>();
  watchRefusableRequests(app.server, options.mutualTls !== undefined);

  // Clients of the APIs Tessera reproduces send Content-Type: application/json on bodiless requests:
  // an empty body is "no body", never an error.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text, rejectPrototypeKeys));
    } catch (error) {
      done(
        error instanceof TesseraError
          ? error
          : new TesseraError("malformed_json", "The request body is not valid JSON"),
        undefined,
      );
    }
  });

  // Fastify reads text/plain by default; this is a JSON API, so any other type with a body is 415,
  // while an empty body under any type is still "no body".
  app.removeContentTypeParser("text/plain");
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    done(new TesseraError("unsupported_media_type", "The request body must be application/json"), undefined);
  });

  registerErrorHandling(app, ctx.storage);
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    ctx.metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    ctx.metrics.requestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  return app;
}

/** Keeps `__proto__` and `constructor.prototype` out of parsed bodies. */
function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (key === "__proto__" || key === "constructor") {
    throw new TesseraError("invalid_request", `The key "${key}" is not allowed`);
  }
  return value;
}
