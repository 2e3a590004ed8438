import type { SessionTokenResponse } from "@tessera/protocol";
import type { Dispatcher, RequestInit, Response } from "undici";
import { type FetchAuthenticator, tesseraFetch } from "./authenticated-fetch.ts";
import { type ClientClock, systemClock } from "./clock.ts";
import { TypedEmitter } from "./emitter.ts";
import { InvalidToken, isTransient, networkError, TesseraClientError } from "./errors.ts";
import { callJson, resolveUrl, send } from "./http.ts";
import { defaultRetryPolicy, type RetryPolicy, retryTransient } from "./retry.ts";

/**
 * What a {@link UserSession} tells its listeners. Payloads never hold a token or password:
 * read `session.token` when you need the new one.
 *
 * @example
 * ```ts
 * session.on("renewed", ({ expiresAt, relogin }) => log.info({ expiresAt, relogin }, "session renewed"));
 * session.on("expired", ({ reason }) => log.warn({ reason }, "session lapsed"));
 * session.on("failed", ({ error, willRetry }) => log.warn({ code: error.code, willRetry }, "renewal failed"));
 * ```
 */
export interface UserSessionEvents {
  /** A new token with a new window is held; `relogin` when it came from a fresh password login. */
  renewed: { expiresAt: Date; relogin: boolean };
  /**
   * The session ended before it could be renewed: `unauthorized` when the server answered 401
   * (revoked, or lapsed while the machine slept), `lapsed` when its window closed unrenewed.
   * With a stored password a `renewed` event follows once the fresh login succeeds.
   */
  expired: { reason: "unauthorized" | "lapsed" };
  /** A renewal or login attempt failed; `willRetry` says whether the session tries again by itself. */
  failed: { error: TesseraClientError; willRetry: boolean };
}

/**
 * When background renewal happens: at `fraction` of the remaining lifetime, minus a random
 * jitter of up to `jitterFraction` of it, and never later than `minLeadMs` before expiry.
 *
 * @example
 * ```ts
 * const session = await UserSession.login({ baseUrl, email, password, renewal: { fraction: 0.5 } });
 * ```
 */
export interface RenewalOptions {
  /** Default true. False: the session never renews by itself; call `renew()`. */
  autoRenew: boolean;
  /** Default 2/3. */
  fraction: number;
  /** Default 0.1, so that many clients started together do not renew together. */
  jitterFraction: number;
  /** Default 60 000. */
  minLeadMs: number;
}

/**
 * Options every way of opening a {@link UserSession} accepts.
 *
 * @example
 * ```ts
 * const options: UserSessionOptions = { baseUrl: "https://tessera.example.com", retry: { maxDelayMs: 10_000 } };
 * ```
 */
export interface UserSessionOptions {
  /** Tessera's HTTP base URL, for example `http://127.0.0.1:8080`. */
  baseUrl: string;
  clock?: ClientClock;
  /** Random numbers in [0, 1) for jitter; injectable for deterministic tests. */
  random?: () => number;
  retry?: Partial<RetryPolicy>;
  renewal?: Partial<RenewalOptions>;
  /** An undici dispatcher (proxy, custom CA) for every call. */
  dispatcher?: Dispatcher;
}

/**
 * A password login: `selectedOrg` may be left out when the user belongs to exactly one org.
 *
 * @example
 * ```ts
 * const login: PasswordLoginOptions = { baseUrl, email: "ada@example.com", password, selectedOrg: 1 };
 * ```
 */
export interface PasswordLoginOptions extends UserSessionOptions {
  email: string;
  password: string;
  selectedOrg?: number;
}

/**
 * An API key (`tsk_…`): it never expires, so nothing is renewed.
 *
 * @example
 * ```ts
 * const session = UserSession.fromApiKey({ baseUrl, apiKey: process.env.TESSERA_API_KEY ?? "" });
 * ```
 */
export interface ApiKeyOptions extends UserSessionOptions {
  apiKey: string;
}

/**
 * A session token obtained elsewhere (a saved token file, say). Without a stored password it
 * cannot log in again once it lapses.
 *
 * @example
 * ```ts
 * const session = UserSession.fromToken({ baseUrl, token: saved.token, expiresAt: new Date(saved.expiresAt * 1000) });
 * ```
 */
export interface ExistingTokenOptions extends UserSessionOptions {
  token: string;
  expiresAt: Date;
  userId?: number;
  orgId?: number;
}

type Credential =
  | { kind: "session"; token: string; expiresAtMs: number; userId?: number | undefined; orgId?: number | undefined }
  | { kind: "apiKey"; apiKey: string };

interface StoredLogin {
  email: string;
  password: string;
  selectedOrg?: number | undefined;
}

const defaultRenewal: RenewalOptions = { autoRenew: true, fraction: 2 / 3, jitterFraction: 0.1, minLeadMs: 60_000 };

/**
 * A user session that keeps itself alive (contract §2): it renews its token before each 15-minute
 * window closes, on a timer that does not keep the process alive, with jitter; renewals are
 * single-flight and retry network failures, 429 and 5xx while the window is open. If the
 * session lapses anyway (a 401, for example after the machine slept) it logs in again with the
 * stored password, or emits `expired` when it has none. API-key sessions never expire.
 *
 * @example
 * ```ts
 * const session = await UserSession.login({ baseUrl: "http://127.0.0.1:8080", email, password, selectedOrg: 1 });
 * session.on("failed", ({ error }) => console.warn("renewal failed:", error.code));
 * const me = await (await session.fetch("/user/users/me")).json();
 * await session.close();
 * ```
 */
export class UserSession extends TypedEmitter<UserSessionEvents> implements FetchAuthenticator {
  readonly baseUrl: string;
  readonly dispatcher: Dispatcher | undefined;
  // Private (#) fields stay out of console.log and util.inspect: secrets live here.
  #credential: Credential;
  readonly #login: StoredLogin | undefined;
  private readonly clock: ClientClock;
  private readonly random: () => number;
  private readonly retry: RetryPolicy;
  private readonly renewal: RenewalOptions;
  private generation = 0;
  private inflight: Promise<void> | undefined;
  private timer: unknown;
  private closed = false;
  /** The absolute cap was reached: renewals no longer move the expiry. */
  private capped = false;
  private expiredGeneration = -1;

  private constructor(options: UserSessionOptions, credential: Credential, login?: StoredLogin) {
    super();
    this.baseUrl = options.baseUrl;
    this.dispatcher = options.dispatcher;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    this.renewal = { ...defaultRenewal, ...options.renewal };
    this.#credential = credential;
    this.#login = login;
    this.schedule();
  }

  /**
   * Logs in with email and password (`POST /user/authenticate`). Network failures, 429 and 5xx
   * are retried with backoff; refusals are thrown at once as typed errors (`InvalidCredentials`,
   * `PasswordExpired`, `AccountLocked`, `OrgAccessDenied`, `NoActiveOrg`, `SelectedOrgRequired`).
   * The password is kept in memory only, to log in again if the session lapses.
   *
   * @example
   * ```ts
   * const session = await UserSession.login({ baseUrl, email: "ada@example.com", password, selectedOrg: 1 });
   * ```
   */
  static async login(options: PasswordLoginOptions): Promise<UserSession> {
    const login: StoredLogin = { email: options.email, password: options.password, selectedOrg: options.selectedOrg };
    const retry = { ...defaultRetryPolicy, ...options.retry };
    const answer = await retryTransient(() => requestLogin(options.baseUrl, login, options.dispatcher), {
      clock: options.clock ?? systemClock,
      policy: retry,
      random: options.random ?? Math.random,
      keepAlive: true,
    });
    return new UserSession(options, sessionCredential(answer), login);
  }

  /**
   * A session that sends `x-api-key` on every call. Nothing is checked until the first call.
   *
   * @example
   * ```ts
   * const session = UserSession.fromApiKey({ baseUrl, apiKey: process.env.TESSERA_API_KEY ?? "" });
   * const orgs = await (await session.fetch("/user/orgs")).json();
   * ```
   */
  static fromApiKey(options: ApiKeyOptions): UserSession {
    return new UserSession(options, { kind: "apiKey", apiKey: options.apiKey });
  }

  /**
   * Adopts an existing session token; it is renewed like any other but cannot log in again.
   *
   * @example
   * ```ts
   * const session = UserSession.fromToken({ baseUrl, token, expiresAt: new Date(expiresAtSeconds * 1000) });
   * await session.renew();
   * ```
   */
  static fromToken(options: ExistingTokenOptions): UserSession {
    return new UserSession(options, {
      kind: "session",
      token: options.token,
      expiresAtMs: options.expiresAt.getTime(),
      userId: options.userId,
      orgId: options.orgId,
    });
  }

  /**
   * The current session token (`tsu_…`), or the API key. It changes at every renewal: read it
   * for each call, or use {@link UserSession.fetch}.
   *
   * @example
   * ```ts
   * await fetch(url, { headers: { authorization: `Bearer ${session.token}` } });
   * ```
   */
  get token(): string {
    return this.#credential.kind === "session" ? this.#credential.token : this.#credential.apiKey;
  }

  /**
   * When the current window closes unless renewed; null for API keys, which do not expire.
   *
   * @example
   * ```ts
   * console.log("valid until", session.expiresAt?.toISOString());
   * ```
   */
  get expiresAt(): Date | null {
    return this.#credential.kind === "session" ? new Date(this.#credential.expiresAtMs) : null;
  }

  /**
   * The user and org the session belongs to, as the last login or renewal reported them.
   *
   * @example
   * ```ts
   * console.log(`user ${session.userId} in org ${session.orgId}`);
   * ```
   */
  get userId(): number | undefined {
    return this.#credential.kind === "session" ? this.#credential.userId : undefined;
  }

  /** @see {@link UserSession.userId} @example `const org = session.orgId;` */
  get orgId(): number | undefined {
    return this.#credential.kind === "session" ? this.#credential.orgId : undefined;
  }

  /** Whether this session authenticates with an API key. @example `if (!session.isApiKey) await session.renew();` */
  get isApiKey(): boolean {
    return this.#credential.kind === "apiKey";
  }

  /**
   * Renews now (`GET /user/authenticate`): a new token with a new window. Single-flight:
   * concurrent calls share one request. Transient failures are retried while the window is
   * open; a 401 leads to a fresh login when a password is stored. A no-op for API keys.
   *
   * @example
   * ```ts
   * await session.renew();
   * console.log("now valid until", session.expiresAt);
   * ```
   */
  renew(): Promise<void> {
    if (this.#credential.kind === "apiKey") return Promise.resolve();
    if (this.closed) return Promise.reject(new Error("The session is closed"));
    return this.singleFlight(() => this.renewWithRetry());
  }

  /**
   * `fetch` with this session's credential, resolved against `baseUrl`, re-authenticating once
   * after a 401 (see {@link tesseraFetch}).
   *
   * @example
   * ```ts
   * const response = await session.fetch("/user/users/me");
   * if (!response.ok) throw await errorFromResponse(response);
   * ```
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    return tesseraFetch(this, input, init);
  }

  /**
   * Stops renewal and logs out (`DELETE /user/authenticate`). An API key is left as it is
   * (revoking keys is an admin action). Logout failures are ignored: the session lapses anyway.
   *
   * @example
   * ```ts
   * process.once("SIGTERM", () => session.close());
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer();
    await this.inflight?.catch(() => {});
    if (this.#credential.kind !== "session") return;
    try {
      const response = await send(resolveUrl(this.baseUrl, "/user/authenticate"), {
        method: "DELETE",
        headers: { authorization: `Bearer ${this.#credential.token}`, "content-type": "application/json" },
        ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
      });
      await response.body?.cancel();
    } catch {
      // Unreachable server: the session lapses by itself at the end of its window.
    }
  }

  /** @internal {@link FetchAuthenticator} */
  credentialHeaders(): { headers: Record<string, string>; generation: number } {
    const credential = this.#credential;
    const headers: Record<string, string> =
      credential.kind === "session"
        ? { authorization: `Bearer ${credential.token}` }
        : { "x-api-key": credential.apiKey };
    return { headers, generation: this.generation };
  }

  /** @internal {@link FetchAuthenticator}: one fresh login for every call that met the same 401. */
  async recoverFromUnauthorized(generation: number): Promise<boolean> {
    if (generation !== this.generation) return true;
    if (this.inflight) {
      await this.inflight.catch(() => {});
      return generation !== this.generation;
    }
    if (this.closed || this.#login === undefined) {
      this.markExpired("unauthorized");
      return false;
    }
    try {
      await this.singleFlight(() => this.loginAgain("unauthorized"));
    } catch {
      return false;
    }
    return generation !== this.generation;
  }

  private singleFlight(work: () => Promise<void>): Promise<void> {
    if (!this.inflight) {
      const running = work().finally(() => {
        if (this.inflight === running) this.inflight = undefined;
      });
      this.inflight = running;
    }
    return this.inflight;
  }

  private async renewWithRetry(): Promise<void> {
    const credential = this.#credential;
    if (credential.kind !== "session") return;
    let answer: SessionTokenResponse;
    try {
      answer = await retryTransient(
        async () => {
          const result = await callJson<SessionTokenResponse>(resolveUrl(this.baseUrl, "/user/authenticate"), {
            method: "GET",
            headers: { authorization: `Bearer ${credential.token}` },
            dispatcher: this.dispatcher,
          });
          if (!result) throw new TesseraClientError("unexpected_response", { status: 200, detail: "empty renewal" });
          return result;
        },
        {
          clock: this.clock,
          policy: { ...this.retry, maxAttempts: Number.POSITIVE_INFINITY },
          random: this.random,
          keepAlive: false,
          deadline: credential.expiresAtMs,
          onRetry: (error) => this.emit("failed", { error, willRetry: true }),
        },
      );
    } catch (error) {
      const lapsed =
        error instanceof InvalidToken || (isTransient(error) && this.clock.now() >= credential.expiresAtMs);
      if (!lapsed) throw error;
      if (this.#login === undefined || this.closed) {
        this.markExpired(error instanceof InvalidToken ? "unauthorized" : "lapsed");
        throw error;
      }
      return this.loginAgain(error instanceof InvalidToken ? "unauthorized" : "lapsed");
    }
    // The absolute cap is reached when renewing no longer moves the expiry and too little is
    // left to wait for another renewal (checking both keeps two renewals in one second apart).
    const expiresAtMs = answer.expiresAt * 1000;
    this.capped = expiresAtMs <= credential.expiresAtMs && expiresAtMs - this.clock.now() <= this.renewal.minLeadMs;
    this.adopt(answer);
    this.emit("renewed", { expiresAt: new Date(answer.expiresAt * 1000), relogin: false });
  }

  /** A fresh password login, after the old session lapsed or reached its absolute cap. */
  private async loginAgain(reason: "unauthorized" | "lapsed" | "capped"): Promise<void> {
    const login = this.#login;
    if (login === undefined) return;
    if (reason !== "capped") this.markExpired(reason);
    const answer = await retryTransient(() => requestLogin(this.baseUrl, login, this.dispatcher), {
      clock: this.clock,
      policy: this.retry,
      random: this.random,
      keepAlive: false,
      onRetry: (error) => this.emit("failed", { error, willRetry: true }),
    });
    this.capped = false;
    this.adopt(answer);
    this.emit("renewed", { expiresAt: new Date(answer.expiresAt * 1000), relogin: true });
  }

  private adopt(answer: SessionTokenResponse): void {
    this.#credential = sessionCredential(answer);
    this.generation++;
    this.schedule();
  }

  private markExpired(reason: "unauthorized" | "lapsed"): void {
    if (this.expiredGeneration === this.generation) return;
    this.expiredGeneration = this.generation;
    this.cancelTimer();
    this.emit("expired", { reason });
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.cancelTimer();
    const credential = this.#credential;
    if (this.closed || !this.renewal.autoRenew || credential.kind !== "session") return;
    const remaining = credential.expiresAtMs - this.clock.now();
    if (this.capped && this.#login === undefined) {
      // Renewing no longer helps and we cannot log in again: say so when the window closes.
      this.timer = this.clock.setTimeout(() => this.markExpired("lapsed"), Math.max(0, remaining), false);
      return;
    }
    const jitter = this.random() * this.renewal.jitterFraction * remaining;
    const delay = Math.max(0, Math.min(remaining * this.renewal.fraction - jitter, remaining - this.renewal.minLeadMs));
    this.timer = this.clock.setTimeout(() => this.runScheduled(), delay, false);
  }

  /** The timer's work; returns its promise so that a test scheduler can wait for it. */
  private async runScheduled(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    try {
      if (this.capped && this.#login !== undefined) await this.singleFlight(() => this.loginAgain("capped"));
      else await this.renew();
    } catch (error) {
      const failure = error instanceof TesseraClientError ? error : networkError(error);
      const willRetry = this.#login !== undefined && isTransient(failure) && !this.closed;
      this.emit("failed", { error: failure, willRetry });
      // With a password the session keeps trying (as fresh logins once lapsed) until close().
      if (willRetry) this.timer = this.clock.setTimeout(() => this.runScheduled(), this.retry.maxDelayMs, false);
    }
  }
}

function sessionCredential(answer: SessionTokenResponse): Credential {
  return {
    kind: "session",
    token: answer.token,
    expiresAtMs: answer.expiresAt * 1000,
    userId: answer.userId,
    orgId: answer.orgId,
  };
}

async function requestLogin(
  baseUrl: string,
  login: StoredLogin,
  dispatcher: Dispatcher | undefined,
): Promise<SessionTokenResponse> {
  const body: Record<string, unknown> = { email: login.email, password: login.password };
  if (login.selectedOrg !== undefined) body.selectedOrg = login.selectedOrg;
  const answer = await callJson<SessionTokenResponse>(resolveUrl(baseUrl, "/user/authenticate"), {
    method: "POST",
    body,
    dispatcher,
    during: "authenticate",
  });
  if (!answer) throw new TesseraClientError("unexpected_response", { status: 200, detail: "empty login answer" });
  return answer;
}
