import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { TLSSocket } from "node:tls";
import type { V4Event } from "@tessera/client";
import type { TestPki } from "./test-certificates.ts";

/**
 * STAND-IN for Tessera's service-session and datafeed endpoints (DESIGN §3), which are being
 * built on other branches: a real HTTPS server with client-certificate checks that answers
 * exactly as the contract says (Symphony's shapes, statuses and headers), and records what the
 * client sent. It lets the SDK's mTLS, single-flight and datafeed logic run today; the tests
 * against the real server take over once those endpoints exist.
 */
export class ContractStandIn {
  url = "";
  readonly counts = new Map<string, number>();
  /** Content-Type headers seen on the authenticate endpoints (the contract wants none). */
  readonly authenticateContentTypes: Array<string | undefined> = [];
  readonly reads: Array<{ feedId: string; ackId: string; sessionToken: string }> = [];
  pollsClosedByClient = 0;
  /** How long an empty read waits for an event before answering with none. */
  longPollMs = 200;
  private readonly faults = new Map<string, Array<"503" | "429" | "reset" | "403">>();
  private readonly sessionTokens = new Set<string>();
  private readonly keyManagerTokens = new Set<string>();
  private readonly feeds = new Map<string, Feed>();
  private server: Server | undefined;

  constructor(private readonly pki: TestPki) {}

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  failNext(key: string, ...faults: Array<"503" | "429" | "reset" | "403">): void {
    this.faults.set(key, [...(this.faults.get(key) ?? []), ...faults]);
  }

  /** Every session ends, as after expiry or an admin revocation; feeds live on. */
  revokeAllSessions(): void {
    this.sessionTokens.clear();
    this.keyManagerTokens.clear();
  }

  createFeed(): string {
    const id = `${randomBytes(8).toString("hex")}_f`;
    this.feeds.set(id, new Feed());
    return id;
  }

  deleteFeed(id: string): void {
    this.feeds.get(id)?.wake();
    this.feeds.delete(id);
  }

  feedIds(): string[] {
    return [...this.feeds.keys()];
  }

  publish(feedId: string, ...types: string[]): V4Event[] {
    const feed = this.feeds.get(feedId);
    if (!feed) throw new Error(`no feed ${feedId}`);
    const events = types.map((type) => ({
      id: randomBytes(6).toString("hex"),
      timestamp: Date.now(),
      type,
      payload: {},
    }));
    feed.pending.push(...events);
    feed.wake();
    return events;
  }

  async start(): Promise<void> {
    this.server = createServer(
      {
        key: this.pki.serverKeyPem,
        cert: this.pki.serverCertPem,
        ca: this.pki.caPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (request, response) => {
        this.handle(request, response).catch(() => response.destroy());
      },
    );
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    const address = this.server.address();
    this.url = `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  async close(): Promise<void> {
    for (const feed of this.feeds.values()) feed.wake();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? "").split("?")[0] ?? "";
    const key = `${request.method} ${path.replace(/\/[0-9a-f]+_f(?=\/|$)/, "/{id}")}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const body = await readBody(request);
    const fault = this.faults.get(key)?.shift();
    if (fault === "reset") {
      request.socket.destroy();
      return;
    }
    if (fault) return symphonyError(response, Number(fault), fault === "403" ? "forbidden" : "service_unavailable");

    if (key === "POST /sessionauth/v1/authenticate" || key === "POST /keyauth/v1/authenticate") {
      this.authenticateContentTypes.push(request.headers["content-type"]);
      if (body !== "") return symphonyError(response, 400, "invalid_request");
      if (!(request.socket as TLSSocket).authorized) return symphonyError(response, 401, "client_certificate_required");
      const pod = key.startsWith("POST /sessionauth");
      const token = `${pod ? "tss_" : "tsm_"}${randomBytes(16).toString("base64url")}`;
      (pod ? this.sessionTokens : this.keyManagerTokens).add(token);
      return json(
        response,
        200,
        pod ? { name: "sessionToken", token, authorizationToken: "e30.e30.sig" } : { name: "keyManagerToken", token },
      );
    }
    if (key === "POST /sessionauth/v1/logout") {
      this.sessionTokens.delete(String(request.headers.sessiontoken));
      return json(response, 200, { message: "Logged out" });
    }

    const sessionToken = String(request.headers.sessiontoken ?? "");
    const keyManagerToken = String(request.headers.keymanagertoken ?? "");
    const live = this.sessionTokens.has(sessionToken) && this.keyManagerTokens.has(keyManagerToken);
    if (!live) return symphonyError(response, 401, "invalid_token");

    if (key === "GET /pod/v2/sessioninfo")
      return json(response, 200, { id: 7, username: "bot", accountType: "SYSTEM" });
    if (key === "GET /agent/v5/datafeeds")
      return json(
        response,
        200,
        this.feedIds().map((id) => ({ id, type: "datafeed" })),
      );
    if (key === "POST /agent/v5/datafeeds") return json(response, 201, { id: this.createFeed(), type: "datafeed" });
    const feedId = /\/agent\/v5\/datafeeds\/([^/]+)/.exec(path)?.[1] ?? "";
    if (key === "DELETE /agent/v5/datafeeds/{id}") {
      this.deleteFeed(feedId);
      response.writeHead(204).end();
      return;
    }
    if (key === "POST /agent/v5/datafeeds/{id}/read") {
      const ackId = String((JSON.parse(body || "{}") as { ackId?: unknown }).ackId ?? "");
      this.reads.push({ feedId, ackId, sessionToken });
      const feed = this.feeds.get(feedId);
      if (!feed) return symphonyError(response, 400, "invalid_request");
      feed.acknowledge(ackId);
      if (feed.pending.length === 0) {
        const closed = await feed.waitForEvents(this.longPollMs, request);
        if (closed) {
          this.pollsClosedByClient++;
          return;
        }
        if (!this.feeds.has(feedId)) return symphonyError(response, 400, "invalid_request");
      }
      return json(response, 200, feed.deliver(ackId));
    }
    return symphonyError(response, 404, "not_found");
  }
}

/** Symphony's ackId semantics: sending back the last ackId acknowledges that batch. */
class Feed {
  pending: V4Event[] = [];
  private lastBatch: { ackId: string; count: number } | undefined;
  private waiters: Array<() => void> = [];

  acknowledge(ackId: string): void {
    if (this.lastBatch && ackId === this.lastBatch.ackId) {
      this.pending.splice(0, this.lastBatch.count);
      this.lastBatch = undefined;
    }
  }

  deliver(previousAckId: string): { events: V4Event[]; ackId: string } {
    if (this.pending.length === 0) return { events: [], ackId: previousAckId };
    const ackId = randomBytes(8).toString("base64url");
    this.lastBatch = { ackId, count: this.pending.length };
    return { events: [...this.pending], ackId };
  }

  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves true when the client closed the connection first. */
  waitForEvents(ms: number, request: IncomingMessage): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      const onClose = () => finish(true);
      const finish = (closed: boolean) => {
        clearTimeout(timer);
        request.socket.off("close", onClose);
        resolve(closed);
      };
      request.socket.once("close", onClose);
      this.waiters.push(() => finish(false));
    });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      text += chunk;
    });
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function symphonyError(response: ServerResponse, status: number, reason: string): void {
  json(response, status, { code: status, message: reason.replaceAll("_", " "), reason });
}
