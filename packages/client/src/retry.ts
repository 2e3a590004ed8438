import { type ClientClock, sleep } from "./clock.ts";
import { isTransient, type TesseraClientError } from "./errors.ts";

/**
 * Capped exponential backoff with full jitter: attempt n waits a random time in
 * `[0, min(maxDelayMs, baseDelayMs * 2^n)]`, and at least what a `Retry-After` asked for.
 *
 * @example
 * ```ts
 * const session = await ServiceSession.authenticate({ ..., retry: { baseDelayMs: 200, maxDelayMs: 10_000, maxAttempts: 6 } });
 * ```
 */
export interface RetryPolicy {
  /** First delay's upper bound. Default 500 ms. */
  baseDelayMs: number;
  /** Largest delay. Default 30 s. */
  maxDelayMs: number;
  /** Attempts in all (first try included) for calls that give up; loops that never give up ignore it. Default 6. */
  maxAttempts: number;
}

/**
 * The defaults: 500 ms doubling to at most 30 s, 6 attempts.
 *
 * @example
 * ```ts
 * const patient: RetryPolicy = { ...defaultRetryPolicy, maxAttempts: 20 };
 * ```
 */
export const defaultRetryPolicy: RetryPolicy = { baseDelayMs: 500, maxDelayMs: 30_000, maxAttempts: 6 };

/**
 * The delay before retry number `attempt` (0 for the first retry).
 *
 * @example
 * ```ts
 * const ms = backoffDelay(defaultRetryPolicy, 3, Math.random);
 * ```
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number,
  retryAfterSeconds?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  const jittered = Math.floor(random() * ceiling);
  const asked = retryAfterSeconds === undefined ? 0 : Math.min(policy.maxDelayMs, retryAfterSeconds * 1000);
  return Math.max(jittered, asked);
}

/**
 * What {@link retryTransient} needs besides the work itself.
 *
 * @example
 * ```ts
 * const context: RetryContext = { clock: systemClock, policy: defaultRetryPolicy, random: Math.random, keepAlive: true };
 * ```
 */
export interface RetryContext {
  clock: ClientClock;
  policy: RetryPolicy;
  random: () => number;
  keepAlive: boolean;
  /** Give up once the next attempt would start after this Unix ms time. */
  deadline?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Told of every transient failure that will be retried. */
  onRetry?: ((error: TesseraClientError, delayMs: number) => void) | undefined;
}

/**
 * Runs `work`, retrying transient failures (network, 429, 5xx) with backoff until it succeeds,
 * the attempts run out or the deadline would pass; anything else is thrown at once.
 *
 * @example
 * ```ts
 * const token = await retryTransient(() => authenticate(), { clock: systemClock, policy: defaultRetryPolicy, random: Math.random, keepAlive: true });
 * ```
 */
export async function retryTransient<T>(work: () => Promise<T>, context: RetryContext): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || attempt + 1 >= context.policy.maxAttempts) throw error;
      const failure = error as TesseraClientError;
      const delay = backoffDelay(context.policy, attempt, context.random, failure.retryAfterSeconds);
      if (context.deadline !== undefined && context.clock.now() + delay >= context.deadline) throw error;
      context.onRetry?.(failure, delay);
      await sleep(context.clock, delay, { keepAlive: context.keepAlive, signal: context.signal });
    }
  }
}
