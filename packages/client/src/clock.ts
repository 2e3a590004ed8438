/**
 * Time as the SDK sees it. Injected so that tests (and simulations) can move time by hand
 * instead of sleeping; the default is the system clock with real timers.
 *
 * A timer callback may return a promise for the work it started: the SDK's own callbacks do,
 * so that a test scheduler can wait for that work before moving time again.
 *
 * @example
 * ```ts
 * const session = await UserSession.login({ baseUrl, email, password, clock: myFakeClock });
 * ```
 */
export interface ClientClock {
  /** Unix milliseconds. */
  now(): number;
  /**
   * Runs `callback` after `ms`. With `keepAlive: false` the timer must not keep the process
   * alive (Node's `unref`), as background renewal timers must not.
   */
  setTimeout(callback: () => void, ms: number, keepAlive: boolean): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock: `Date.now()` and Node's timers (unref'd when `keepAlive` is false).
 *
 * @example
 * ```ts
 * const session = await UserSession.login({ baseUrl, email, password, clock: systemClock });
 * ```
 */
export const systemClock: ClientClock = {
  now: () => Date.now(),
  setTimeout(callback, ms, keepAlive) {
    const timer = setTimeout(callback, Math.max(0, ms));
    if (!keepAlive) timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/**
 * Waits `ms` on `clock`; rejects with the signal's reason when `signal` aborts first.
 *
 * @example
 * ```ts
 * await sleep(systemClock, 1000, { keepAlive: true, signal: controller.signal });
 * ```
 */
export function sleep(
  clock: ClientClock,
  ms: number,
  options: { keepAlive: boolean; signal?: AbortSignal | undefined },
): Promise<void> {
  const { signal } = options;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      ms,
      options.keepAlive,
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
