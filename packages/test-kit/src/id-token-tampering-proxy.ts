/**
 * A TEST-ONLY tampering HTTP proxy, for proving Tessera's ID-token checks against a real OpenID
 * provider: it listens on a loopback port, and the provider is told that this is its issuer
 * (oidc-provider-process.ts with OIDC_ISSUER), so discovery, JWKS, the authorization endpoint,
 * the scripted interaction and the token endpoint all go through it, with the Host header
 * unchanged (the provider builds its endpoint URLs from it). It forwards everything untouched,
 * records every ID token the token endpoint answers, and, when told to, rewrites the `id_token`
 * of the next token-endpoint answer before Tessera sees it.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface IdTokenTamperingProxy {
  /** Where the proxy listens: the issuer the provider must be given, and Tessera configured with. */
  url: string;
  /** Sets where requests go (the provider's listening URL, known only once it started). */
  forwardTo(upstream: string): void;
  /** Every request forwarded, as "METHOD /path" (no query). */
  readonly requests: string[];
  /** Every ID token the token endpoint answered, in order, as the provider issued it. */
  readonly issuedIdTokens: string[];
  /** Rewrites the `id_token` of the next token-endpoint answer (only that one) to `rewrite(original)`. */
  tamperNextIdToken(rewrite: (original: string) => string): void;
  /** How many token-endpoint answers were rewritten so far. */
  readonly tamperedCount: number;
  close(): Promise<void>;
}

/** Connection-level headers, which belong to each hop and are not forwarded. */
const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !hopByHop.has(name.toLowerCase())));
}

export async function startIdTokenTamperingProxy(
  options: { tokenEndpointPath?: string } = {},
): Promise<IdTokenTamperingProxy> {
  const tokenEndpointPath = options.tokenEndpointPath ?? "/token";
  let upstream: URL | undefined;
  let pendingRewrite: ((original: string) => string) | undefined;
  let tamperedCount = 0;
  const requests: string[] = [];
  const issuedIdTokens: string[] = [];

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://proxy.invalid").pathname;
    requests.push(`${request.method} ${path}`);
    if (!upstream) {
      response.writeHead(503).end("the tampering proxy has no upstream yet");
      return;
    }
    const intercept = request.method === "POST" && path === tokenEndpointPath;
    const headers = forwardable(request.headers);
    if (intercept) headers["accept-encoding"] = "identity";
    const outgoing = httpRequest(
      new URL(request.url ?? "/", upstream),
      { method: request.method, headers },
      (answer) => {
        const answerHeaders = forwardable(answer.headers);
        if (!intercept) {
          response.writeHead(answer.statusCode ?? 502, answerHeaders);
          answer.pipe(response);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          let body = Buffer.concat(chunks);
          try {
            const json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
            if (typeof json.id_token === "string") {
              issuedIdTokens.push(json.id_token);
              const rewrite = pendingRewrite;
              pendingRewrite = undefined;
              if (rewrite) {
                json.id_token = rewrite(json.id_token);
                tamperedCount++;
                body = Buffer.from(JSON.stringify(json));
              }
            }
          } catch {
            // Not JSON: forwarded as it came.
          }
          answerHeaders["content-length"] = String(body.length);
          response.writeHead(answer.statusCode ?? 502, answerHeaders);
          response.end(body);
        });
      },
    );
    outgoing.on("error", (error) => {
      if (!response.headersSent) response.writeHead(502);
      response.end(String(error));
    });
    request.pipe(outgoing);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  return {
    url,
    forwardTo(target) {
      upstream = new URL(target);
    },
    requests,
    issuedIdTokens,
    tamperNextIdToken(rewrite) {
      pendingRewrite = rewrite;
    },
    get tamperedCount() {
      return tamperedCount;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
