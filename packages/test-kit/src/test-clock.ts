import type { Clock, TimerHandle } from "@tessera/server/internal/clock.ts";

interface VirtualTimer {
  /** Scheduling order: timers due at the same time fire in the order they were set. */
  order: number;
  due: number;
  callback: () => unknown;
}

/**
 * A clock a test moves by hand, so expiry and timers are tested without sleeping. Its timers are
 * virtual: they fire only when `advance` moves time past them, one by one in order of due time,
 * each with the clock showing its due time. After each, `advance` waits for the promise the
 * callback returned (the work it started) and lets pending promise callbacks run, so a timer
 * that this work sets fires in the same advance if it falls due within it. Nothing depends on
 * how fast the machine is.
 */
export class TestClock implements Clock {
  private readonly timers = new Map<TimerHandle, VirtualTimer>();
  private scheduled = 0;
  private waiters: Array<() => void> = [];

  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  /** Virtual timers never keep the process alive, so there is no `keepAlive` to honour. */
  setTimeout(callback: () => unknown, ms: number): TimerHandle {
    const handle = {} as TimerHandle;
    this.timers.set(handle, { order: this.scheduled++, due: this.current + Math.max(0, Math.round(ms)), callback });
    for (const wake of this.waiters.splice(0)) wake();
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle);
  }

  /** Timers set and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** When the next timer falls due (Unix milliseconds), if any is pending. */
  get nextDue(): number | undefined {
    return this.next(Number.POSITIVE_INFINITY)?.[1].due;
  }

  /** Resolves once a timer is pending: how a test waits until the work it started waits on this clock. */
  whenTimerPending(): Promise<void> {
    if (this.timers.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Moves time forward by `milliseconds` (whole milliseconds, like Date.now(): stores keep times
   * as 64-bit integers and PostgreSQL refuses fractions), firing every timer that falls due on the
   * way. With none due on the way, time has moved when the call returns. A negative amount sets
   * the clock back and fires nothing. A callback that throws, or whose promise rejects, ends the
   * advance with that error.
   */
  async advance(milliseconds: number): Promise<void> {
    const end = Math.round(this.current + milliseconds);
    for (let due = this.next(end); due; due = this.next(end)) {
      const [handle, timer] = due;
      this.timers.delete(handle);
      this.current = Math.max(this.current, timer.due);
      await timer.callback();
      // Promise callbacks queued by the timer's work run before the next timer fires.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.current = end;
  }

  advanceSeconds(seconds: number): Promise<void> {
    return this.advance(seconds * 1000);
  }

  private next(until: number): [TimerHandle, VirtualTimer] | undefined {
    let first: [TimerHandle, VirtualTimer] | undefined;
    for (const entry of this.timers) {
      const timer = entry[1];
      if (timer.due > until) continue;
      if (!first || timer.due < first[1].due || (timer.due === first[1].due && timer.order < first[1].order)) {
        first = entry;
      }
    }
    return first;
  }
}
