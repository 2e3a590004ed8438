import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";

export type Fault = "503" | "429" | "reset";

/** One request the proxy received, as the client sent it. */
export interface ProxiedRequest {
  /** "METHOD path", without the query. */
  key: string;
  headers: IncomingHttpHeaders;
  /** The body so far (all of it once the request has arrived). */
  body: string;
}

/**
 * A real HTTP proxy in front of a test instance that records every request ("METHOD path",
 * headers and body) and injects faults the real server would not produce on demand: a 503 or
 * 429 answer, or a connection reset (a network failure). Test-only stand-in for an unreliable
 * network; every answer that is not a fault comes from the real server.
 */
export class FaultProxy {
  readonly counts = new Map<string, number>();
  readonly requests: ProxiedRequest[] = [];
  private readonly abandonedCounts = new Map<string, number>();
  private readonly faults = new Map<string, Fault[]>();
  private server: Server | undefined;
  url = "";

  constructor(private readonly target: string) {}

  /** The next requests to "METHOD path" meet these faults, in order, instead of the server. */
  failNext(methodAndPath: string, ...faults: Fault[]): void {
    this.faults.set(methodAndPath, [...(this.faults.get(methodAndPath) ?? []), ...faults]);
  }

  count(methodAndPath: string): number {
    return this.counts.get(methodAndPath) ?? 0;
  }

  /** Requests to "METHOD path" whose client went away before the server's answer was through. */
  abandoned(methodAndPath: string): number {
    return this.abandonedCounts.get(methodAndPath) ?? 0;
  }

  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = createServer((incoming, outgoing) => {
      const key = `${incoming.method} ${(incoming.url ?? "").split("?")[0]}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      const recorded: ProxiedRequest = { key, headers: incoming.headers, body: "" };
      this.requests.push(recorded);
      incoming.on("data", (chunk: Buffer) => {
        recorded.body += chunk.toString("utf8");
      });
      const fault = this.faults.get(key)?.shift();
      if (fault === "reset") {
        incoming.socket.destroy();
        return;
      }
      if (fault === "503" || fault === "429") {
        outgoing.writeHead(Number(fault), { "content-type": "application/problem+json", "retry-after": "0" });
        outgoing.end(
          JSON.stringify({
            code: fault === "503" ? "service_unavailable" : "too_many_requests",
            status: Number(fault),
          }),
        );
        return;
      }
      const forwarded = request(
        {
          host: target.hostname,
          port: target.port,
          path: incoming.url,
          method: incoming.method,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      let upstreamFailed = false;
      forwarded.on("error", () => {
        upstreamFailed = true;
        outgoing.destroy();
      });
      outgoing.on("close", () => {
        if (outgoing.writableFinished || upstreamFailed) return;
        this.abandonedCounts.set(key, (this.abandonedCounts.get(key) ?? 0) + 1);
        forwarded.destroy();
      });
      incoming.pipe(forwarded);
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
