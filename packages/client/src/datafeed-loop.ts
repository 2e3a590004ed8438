import type { Response } from "undici";
import { type ClientClock, sleep, systemClock } from "./clock.ts";
import { TypedEmitter } from "./emitter.ts";
import { errorFromResponse, networkError, TesseraClientError } from "./errors.ts";
import { resolveUrl } from "./http.ts";
import { backoffDelay, defaultRetryPolicy, type RetryPolicy } from "./retry.ts";
import type { ServiceSession } from "./service-session.ts";

/**
 * One event in Symphony's `V4Event` envelope (contract §3 "Datafeeds"). `type` and `payload`
 * name an org security or audit event.
 *
 * @example
 * ```ts
 * const handler = async (events: V4Event[]) => {
 *   for (const event of events) console.log(event.id, event.type, event.initiator?.user);
 * };
 * ```
 */
export interface V4Event {
  id: string;
  timestamp: number;
  type: string;
  initiator?: { user?: Record<string, unknown> };
  payload?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * What a {@link DatafeedLoop} tells its listeners.
 *
 * @example
 * ```ts
 * loop.on("failed", ({ error, stage }) => log.warn({ code: error instanceof TesseraClientError ? error.code : undefined, stage }, "datafeed retry"));
 * ```
 */
export interface DatafeedLoopEvents {
  /** The feed being read: reused (`created: false`) or new. */
  feed: { id: string; created: boolean };
  /** A batch was handled; its ackId goes out with the next read, which acknowledges it. */
  acknowledged: { count: number };
  /** Something failed and the loop will try again after a backoff (`stage` says what). */
  failed: { error: unknown; stage: "open" | "read" | "handler" };
}

/**
 * How a {@link DatafeedLoop} reads.
 *
 * @example
 * ```ts
 * const loop = new DatafeedLoop({ session, handler: async (events) => store(events), retry: { maxDelayMs: 10_000 } });
 * ```
 */
export interface DatafeedLoopOptions {
  session: ServiceSession;
  /** Called once per non-empty batch; the batch is acknowledged only after it resolves. */
  handler: (events: V4Event[]) => Promise<void> | void;
  /** Sent when a feed has to be created. */
  tag?: string | null;
  clock?: ClientClock;
  random?: () => number;
  /** Backoff between failed attempts (`maxAttempts` is ignored: the loop never gives up). */
  retry?: Partial<RetryPolicy>;
}

interface ReadAnswer {
  events?: V4Event[] | null;
  ackId?: string;
}

/**
 * Reads a datafeed for as long as it runs, at least once and in order. It reuses the user's
 * first existing feed (`GET /agent/v5/datafeeds`) or creates one; reads with `{ackId}` (`""`
 * first); hands every batch to the handler and only then sends the batch's ackId, so a batch
 * whose handler threw is delivered again. A 401 re-authenticates the session (once, shared) and
 * continues the SAME feed and ackId; a 400 (unknown or deleted feed) creates a new feed; any
 * other failure is retried forever with capped backoff. `stop()` aborts the long-poll.
 *
 * @example
 * ```ts
 * const loop = new DatafeedLoop({ session, handler: async (events) => { for (const e of events) console.log(e.type); } });
 * const running = loop.start();
 * process.once("SIGINT", () => loop.stop());
 * await running;
 * ```
 */
export class DatafeedLoop extends TypedEmitter<DatafeedLoopEvents> {
  private readonly session: ServiceSession;
  private readonly handler: DatafeedLoopOptions["handler"];
  private readonly tag: string | null | undefined;
  private readonly clock: ClientClock;
  private readonly random: () => number;
  private readonly retry: RetryPolicy;
  private feed: string | undefined;
  private ack = "";
  private failures = 0;
  private abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(options: DatafeedLoopOptions) {
    super();
    this.session = options.session;
    this.handler = options.handler;
    this.tag = options.tag;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.retry = { ...defaultRetryPolicy, ...options.retry };
  }

  /**
   * The feed being read, once known.
   *
   * @example
   * ```ts
   * loop.on("feed", () => console.log("reading", loop.feedId));
   * ```
   */
  get feedId(): string | undefined {
    return this.feed;
  }

  /**
   * The ackId that the next read sends (the last acknowledged batch).
   *
   * @example
   * ```ts
   * await loop.stop();
   * console.log("stopped after", loop.ackId);
   * ```
   */
  get ackId(): string {
    return this.ack;
  }

  /**
   * Runs the loop; resolves when `stop()` has ended it. Calling it again while running returns
   * the same promise.
   *
   * @example
   * ```ts
   * const done = loop.start();
   * ```
   */
  start(): Promise<void> {
    if (!this.running) {
      if (this.abort.signal.aborted) this.abort = new AbortController();
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /**
   * Ends the loop: aborts the in-flight long-poll and waits for a running handler to finish.
   * A batch handled but not yet acknowledged is delivered again to the next reader.
   *
   * @example
   * ```ts
   * process.once("SIGTERM", () => loop.stop());
   * ```
   */
  async stop(): Promise<void> {
    this.abort.abort(new Error("The datafeed loop was stopped"));
    await this.running;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (this.feed === undefined) await this.openFeed();
        else await this.readOnce(this.feed);
      } catch (error) {
        if (this.stopped) return;
        if (error instanceof HandlerFailure) this.emit("failed", { error: error.cause, stage: "handler" });
        else this.emit("failed", { error, stage: this.feed === undefined ? "open" : "read" });
        const delay = backoffDelay(
          this.retry,
          this.failures++,
          this.random,
          error instanceof TesseraClientError ? error.retryAfterSeconds : undefined,
        );
        try {
          await sleep(this.clock, delay, { keepAlive: true, signal: this.abort.signal });
        } catch {
          return;
        }
      }
    }
  }

  private url(path: string): string {
    return resolveUrl(this.session.agentUrl, path);
  }

  private async call(path: string, method: string, body?: unknown): Promise<Response> {
    try {
      return await this.session.fetch(this.url(path), {
        method,
        headers: { "content-type": "application/json", accept: "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: this.abort.signal,
      });
    } catch (error) {
      if (this.stopped || error instanceof TesseraClientError) throw error;
      throw networkError(error);
    }
  }

  /** Reuses the first existing feed, or creates one. */
  private async openFeed(): Promise<void> {
    const listed = await this.call("/agent/v5/datafeeds", "GET");
    if (!listed.ok) throw await errorFromResponse(listed);
    const feeds = (await listed.json()) as Array<{ id?: unknown }>;
    const existing = Array.isArray(feeds) ? feeds.find((feed) => typeof feed.id === "string") : undefined;
    if (existing && typeof existing.id === "string") {
      this.useFeed(existing.id, false);
      return;
    }
    await this.createFeed();
  }

  private async createFeed(): Promise<void> {
    const created = await this.call("/agent/v5/datafeeds", "POST", { tag: this.tag ?? null });
    if (!created.ok) throw await errorFromResponse(created);
    const feed = (await created.json()) as { id?: unknown };
    if (typeof feed.id !== "string") {
      throw new TesseraClientError("unexpected_response", { status: created.status, detail: "no datafeed id" });
    }
    this.useFeed(feed.id, true);
  }

  private useFeed(id: string, created: boolean): void {
    this.feed = id;
    this.ack = "";
    this.emit("feed", { id, created });
  }

  private async readOnce(feed: string): Promise<void> {
    const answer = await this.call(`/agent/v5/datafeeds/${encodeURIComponent(feed)}/read`, "POST", { ackId: this.ack });
    if (answer.status === 400) {
      // The feed is unknown or was deleted: delete it for good measure, then start a new one.
      await answer.body?.cancel();
      await this.call(`/agent/v5/datafeeds/${encodeURIComponent(feed)}`, "DELETE").then(
        (response) => response.body?.cancel(),
        () => {},
      );
      this.feed = undefined;
      await this.createFeed();
      return;
    }
    // A 401 here means the session's one re-authentication did not help either: back off and retry.
    if (!answer.ok) throw await errorFromResponse(answer);
    const batch = (await answer.json()) as ReadAnswer;
    const events = Array.isArray(batch.events) ? batch.events : [];
    if (events.length > 0) {
      try {
        await this.handler(events);
      } catch (error) {
        // Not acknowledged: the same ackId goes out again and the batch comes back.
        throw new HandlerFailure(error);
      }
    }
    if (typeof batch.ackId === "string") this.ack = batch.ackId;
    this.failures = 0;
    if (events.length > 0) this.emit("acknowledged", { count: events.length });
  }
}

class HandlerFailure extends Error {
  constructor(cause: unknown) {
    super("The datafeed handler failed", { cause });
  }
}
