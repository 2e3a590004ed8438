import { once } from "node:events";
import { createServer, request, type Server } from "node:http";

export type Fault = "503" | "429" | "reset";

/**
 * A real HTTP proxy in front of a test instance that counts requests per "METHOD path" and
 * injects faults the real server would not produce on demand: a 503 or 429 answer, or a
 * connection reset (a network failure). Test-only stand-in for an unreliable network.
 */
export class FaultProxy {
  readonly counts = new Map<string, number>();
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

  async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = createServer((incoming, outgoing) => {
      const key = `${incoming.method} ${(incoming.url ?? "").split("?")[0]}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
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
      forwarded.on("error", () => outgoing.destroy());
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
