/**
 * Time as the server sees it, passed in rather than read everywhere, so tests can freeze or
 * advance it. `now` is the wall clock: every expiry is computed from it, so operators and tests
 * may shift the whole process's time. Timers measure durations; the system clock's are Node's
 * (on the monotonic clock), a test clock's fire when the test moves time past them.
 */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
  /**
   * Runs `callback` after `ms`. With `keepAlive: false` the timer does not keep the process
   * alive (Node's `unref`), as background timers must not. The callback may return a promise for
   * the work it started, so that a test clock can wait for that work before moving time again.
   */
  setTimeout(callback: () => void, ms: number, keepAlive: boolean): TimerHandle;
  /** Cancels a timer of this clock that has not fired yet; one that fired or was cancelled is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

declare const timerHandle: unique symbol;
/** What `Clock.setTimeout` returns: opaque, only good for the same clock's `clearTimeout`. */
export type TimerHandle = { readonly [timerHandle]: true };

/** `Date.now()` and Node's timers (unref'd when `keepAlive` is false). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms, keepAlive) {
    const timer = setTimeout(callback, Math.max(0, ms));
    if (!keepAlive) timer.unref();
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};

export function toUnixSeconds(milliseconds: number): number {
  return Math.floor(milliseconds / 1000);
}
