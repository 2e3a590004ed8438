import { type KeyObject, randomUUID } from "node:crypto";
import { Agent, type Dispatcher, type RequestInit, type Response } from "undici";
import { type FetchAuthenticator, tesseraFetch } from "./authenticated-fetch.ts";
import { type ClientClock, systemClock } from "./clock.ts";
import { TypedEmitter } from "./emitter.ts";
import { type TesseraClientError, TesseraClientError as UnexpectedAnswer } from "./errors.ts";
import { callJson, resolveUrl, send } from "./http.ts";
import { createPubkeyJwt } from "./pubkey-jwt.ts";
import { defaultRetryPolicy, type RetryPolicy, retryTransient } from "./retry.ts";

/**
 * Client-certificate login: PEM certificate (chain) and private key whose CN is the service
 * user's username, presented over mutual TLS to the pod and key-manager listeners.
 *
 * @example
 * ```ts
 * const certificate: CertificateCredentials = { cert: readFileSync("bot.pem", "utf8"), key: readFileSync("bot.key", "utf8") };
 * ```
 */
export interface CertificateCredentials {
  cert: string;
  key: string;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
}

/**
 * Key-pair login (Symphony's `pubkey` endpoints): the service user's username and its RSA
 * private key, whose public half an admin registered.
 *
 * @example
 * ```ts
 * const keyPair: KeyPairCredentials = { username: "billing-bot", privateKey: readFileSync("bot-key.pem", "utf8") };
 * ```
 */
export interface KeyPairCredentials {
  username: string;
  privateKey: string | KeyObject;
}

/**
 * Where a service session talks to, and how it proves who it is: exactly one of `certificate`
 * and `keyPair`.
 *
 * @example
 * ```ts
 * const options: ServiceSessionOptions = {
 *   podUrl: "http://127.0.0.1:8080",
 *   sessionAuthUrl: "https://127.0.0.1:8443",
 *   keyManagerUrl: "https://127.0.0.1:8444",
 *   ca: readFileSync("data/tls/ca.pem", "utf8"),
 *   certificate: { cert, key },
 * };
 * ```
 */
export interface ServiceSessionOptions {
  /** Pod APIs (`/pod/...`) and key-pair login (`/login/pubkey/authenticate`). */
  podUrl: string;
  /** Agent APIs (`/agent/...`, datafeeds). Default: `podUrl`. */
  agentUrl?: string;
  /** The pod's mutual-TLS listener (`/sessionauth/...`). Default: `podUrl`. */
  sessionAuthUrl?: string;
  /** The key manager: its mutual-TLS listener (`/keyauth/...`) or, for key pairs, its `/relay`. Default: `podUrl`. */
  keyManagerUrl?: string;
  /** Trusted CA certificate(s) for Tessera's TLS listeners (the dev CA in `<data dir>/tls/ca.pem`). */
  ca?: string | string[];
  certificate?: CertificateCredentials;
  keyPair?: KeyPairCredentials;
  clock?: ClientClock;
  random?: () => number;
  retry?: Partial<RetryPolicy>;
  /** Your own undici dispatcher; then `ca` and `certificate` must be configured on it. */
  dispatcher?: Dispatcher;
}

/**
 * What a {@link ServiceSession} tells its listeners; never a token.
 *
 * @example
 * ```ts
 * session.on("authenticated", ({ reason }) => log.info({ reason }, "service session authenticated"));
 * ```
 */
export interface ServiceSessionEvents {
  authenticated: { reason: "initial" | "unauthorized" | "requested" };
  failed: { error: TesseraClientError; willRetry: boolean };
}

interface SymphonyToken {
  name?: string;
  token?: string;
  authorizationToken?: string;
}

interface ServiceTokens {
  sessionToken: string;
  keyManagerToken: string;
  authorizationToken: string | undefined;
}

/**
 * A service (bot) session (contract §2, §3): a session token from the pod and a key-manager
 * token, obtained with a client certificate over mutual TLS or with an RSA key pair. Service
 * sessions are not renewed: they are used until a 401, then authenticated again. That
 * re-authentication is single-flight (50 concurrent calls meeting a 401 cause one login).
 * Network failures, 429 and 5xx are retried with capped exponential backoff and jitter; a
 * refused login (401/403) is never retried and is thrown as a typed error.
 *
 * @example
 * ```ts
 * const session = await ServiceSession.authenticate({
 *   podUrl: "http://127.0.0.1:8080",
 *   sessionAuthUrl: "https://127.0.0.1:8443",
 *   keyManagerUrl: "https://127.0.0.1:8444",
 *   ca: readFileSync("data/tls/ca.pem", "utf8"),
 *   certificate: { cert: readFileSync("bot.pem", "utf8"), key: readFileSync("bot.key", "utf8") },
 * });
 * const info = await (await session.fetch("/pod/v2/sessioninfo")).json();
 * ```
 */
export class ServiceSession extends TypedEmitter<ServiceSessionEvents> implements FetchAuthenticator {
  readonly baseUrl: string;
  /** Where agent APIs (datafeeds) live. */
  readonly agentUrl: string;
  readonly dispatcher: Dispatcher | undefined;
  #tokens: ServiceTokens | undefined;
  readonly #options: ServiceSessionOptions;
  private readonly ownsDispatcher: boolean;
  private readonly clock: ClientClock;
  private readonly random: () => number;
  private readonly retry: RetryPolicy;
  private generation = 0;
  private inflight: Promise<void> | undefined;
  private closed = false;

  private constructor(options: ServiceSessionOptions) {
    super();
    if ((options.certificate === undefined) === (options.keyPair === undefined)) {
      throw new TypeError("Give exactly one of certificate and keyPair");
    }
    this.#options = options;
    this.baseUrl = options.podUrl;
    this.agentUrl = options.agentUrl ?? options.podUrl;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.retry = { ...defaultRetryPolicy, ...options.retry };
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
      this.ownsDispatcher = false;
    } else if (options.certificate || options.ca) {
      this.dispatcher = new Agent({
        connect: {
          ...(options.ca ? { ca: options.ca } : {}),
          ...(options.certificate
            ? {
                cert: options.certificate.cert,
                key: options.certificate.key,
                ...(options.certificate.passphrase ? { passphrase: options.certificate.passphrase } : {}),
              }
            : {}),
        },
      });
      this.ownsDispatcher = true;
    } else {
      this.dispatcher = undefined;
      this.ownsDispatcher = false;
    }
  }

  /**
   * Authenticates on the pod and the key manager (in parallel) and returns the session.
   * Transient failures are retried up to `retry.maxAttempts`; refusals are thrown at once.
   *
   * @example
   * ```ts
   * const session = await ServiceSession.authenticate({ podUrl, keyPair: { username: "billing-bot", privateKey } });
   * ```
   */
  static async authenticate(options: ServiceSessionOptions): Promise<ServiceSession> {
    const session = new ServiceSession(options);
    try {
      await session.singleFlight("initial");
    } catch (error) {
      await session.releaseDispatcher();
      throw error;
    }
    return session;
  }

  /**
   * The pod session token (header `sessionToken`). It changes after a re-authentication.
   *
   * @example
   * ```ts
   * await fetch(url, { headers: { sessionToken: session.sessionToken, keyManagerToken: session.keyManagerToken } });
   * ```
   */
  get sessionToken(): string {
    return this.#tokens?.sessionToken ?? "";
  }

  /** The key-manager token (header `keyManagerToken`). @example `headers.set("keyManagerToken", session.keyManagerToken);` */
  get keyManagerToken(): string {
    return this.#tokens?.keyManagerToken ?? "";
  }

  /** The short-lived authorization JWT returned beside a certificate login, if any. @example `const jwt = session.authorizationToken;` */
  get authorizationToken(): string | undefined {
    return this.#tokens?.authorizationToken;
  }

  /**
   * Authenticates again now; concurrent calls share one login.
   *
   * @example
   * ```ts
   * await session.reauthenticate();
   * ```
   */
  reauthenticate(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("The session is closed"));
    return this.singleFlight("requested");
  }

  /**
   * `fetch` with `sessionToken` and `keyManagerToken`, resolved against `podUrl`, that
   * re-authenticates once after a 401 (see {@link tesseraFetch}).
   *
   * @example
   * ```ts
   * const response = await session.fetch("/pod/v2/sessioninfo");
   * const feeds = await session.fetch(`${session.agentUrl}/agent/v5/datafeeds`);
   * ```
   */
  fetch(input: string | URL, init?: RequestInit): Promise<Response> {
    return tesseraFetch(this, input, init);
  }

  /**
   * Logs out (`POST /sessionauth/v1/logout`), best effort, and releases connections.
   *
   * @example
   * ```ts
   * process.once("SIGTERM", () => session.close());
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inflight?.catch(() => {});
    const tokens = this.#tokens;
    if (tokens) {
      try {
        const response = await send(
          resolveUrl(this.#options.sessionAuthUrl ?? this.#options.podUrl, "/sessionauth/v1/logout"),
          {
            method: "POST",
            headers: { sessionToken: tokens.sessionToken },
            ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}),
          },
        );
        await response.body?.cancel();
      } catch {
        // The session lapses by itself; nothing else to do.
      }
    }
    await this.releaseDispatcher();
  }

  /** @internal {@link FetchAuthenticator} */
  credentialHeaders(): { headers: Record<string, string>; generation: number } {
    const tokens = this.#tokens;
    const headers: Record<string, string> = tokens
      ? { sessionToken: tokens.sessionToken, keyManagerToken: tokens.keyManagerToken }
      : {};
    return { headers, generation: this.generation };
  }

  /** @internal {@link FetchAuthenticator}: one login for every call that met the same 401. */
  async recoverFromUnauthorized(generation: number): Promise<boolean> {
    if (generation !== this.generation) return true;
    if (this.closed) return false;
    try {
      await this.singleFlight("unauthorized");
    } catch {
      return false;
    }
    return generation !== this.generation;
  }

  private singleFlight(reason: ServiceSessionEvents["authenticated"]["reason"]): Promise<void> {
    if (!this.inflight) {
      const running = this.authenticateBoth(reason).finally(() => {
        if (this.inflight === running) this.inflight = undefined;
      });
      this.inflight = running;
    }
    return this.inflight;
  }

  private async authenticateBoth(reason: ServiceSessionEvents["authenticated"]["reason"]): Promise<void> {
    const retrying = <T>(work: () => Promise<T>) =>
      retryTransient(work, {
        clock: this.clock,
        policy: this.retry,
        random: this.random,
        keepAlive: true,
        onRetry: (error) => this.emit("failed", { error, willRetry: true }),
      });
    try {
      const [session, keyManager] = await Promise.all([
        retrying(() => this.authenticateOn("pod")),
        retrying(() => this.authenticateOn("keymanager")),
      ]);
      this.#tokens = {
        sessionToken: session.token,
        keyManagerToken: keyManager.token,
        authorizationToken: session.authorizationToken,
      };
    } catch (error) {
      if (error instanceof UnexpectedAnswer) this.emit("failed", { error, willRetry: false });
      throw error;
    }
    this.generation++;
    this.emit("authenticated", { reason });
  }

  private async authenticateOn(target: "pod" | "keymanager"): Promise<{ token: string; authorizationToken?: string }> {
    const options = this.#options;
    let answer: SymphonyToken | undefined;
    if (options.keyPair) {
      const base = target === "pod" ? options.podUrl : (options.keyManagerUrl ?? options.podUrl);
      const path = target === "pod" ? "/login/pubkey/authenticate" : "/relay/pubkey/authenticate";
      // A fresh jti per login: a retry within the same second is a new token, never a replay.
      const token = createPubkeyJwt(options.keyPair.username, options.keyPair.privateKey, this.clock.now(), {
        jti: randomUUID(),
      });
      answer = await callJson<SymphonyToken>(resolveUrl(base, path), {
        method: "POST",
        body: { token },
        dispatcher: this.dispatcher,
        during: "authenticate",
      });
    } else {
      const base =
        target === "pod"
          ? (options.sessionAuthUrl ?? options.podUrl)
          : (options.keyManagerUrl ?? options.sessionAuthUrl ?? options.podUrl);
      const path = target === "pod" ? "/sessionauth/v1/authenticate" : "/keyauth/v1/authenticate";
      // No body and no Content-Type: what Symphony's API reference asks for, and accepted in Tessera's strict mode too.
      answer = await callJson<SymphonyToken>(resolveUrl(base, path), {
        method: "POST",
        dispatcher: this.dispatcher,
        during: "authenticate",
        contentType: false,
      });
    }
    if (typeof answer?.token !== "string" || answer.token === "") {
      throw new UnexpectedAnswer("unexpected_response", { status: 200, detail: `no token from the ${target}` });
    }
    return {
      token: answer.token,
      ...(typeof answer.authorizationToken === "string" ? { authorizationToken: answer.authorizationToken } : {}),
    };
  }

  private async releaseDispatcher(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher?.close();
  }
}
