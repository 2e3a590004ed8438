import type { ClientClock } from "@tessera/client";
import type { TestClock } from "./test-clock.ts";

interface Timer {
  id: number;
  due: number;
  callback: () => unknown;
}

/**
 * One virtual time for the server and the client: the server's TestClock is the time (its own
 * timers fire as it moves), and the client's timers fire when `advance()` moves past them. After
 * firing a timer it waits until the work the timer started is done or waits on a new timer, so
 * real HTTP round trips finish before time moves on. Nothing sleeps.
 */
export class VirtualTime implements ClientClock {
  private timers: Timer[] = [];
  private nextId = 1;
  private registrations = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly serverClock: TestClock) {}

  now(): number {
    return this.serverClock.now();
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: this.nextId++, due: this.now() + Math.max(0, ms), callback };
    this.timers.push(timer);
    this.registrations++;
    for (const wake of this.waiters.splice(0)) wake();
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const end = this.now() + ms;
    for (;;) {
      const next = this.timers.filter((timer) => timer.due <= end).sort((a, b) => a.due - b.due || a.id - b.id)[0];
      if (!next) break;
      if (next.due > this.now()) await this.serverClock.advance(next.due - this.now());
      this.timers = this.timers.filter((timer) => timer !== next);
      const seen = this.registrations;
      const result = next.callback();
      if (result instanceof Promise) await Promise.race([result.catch(() => {}), this.registrationAfter(seen)]);
    }
    if (end > this.now()) await this.serverClock.advance(end - this.now());
  }

  private registrationAfter(seen: number): Promise<void> {
    if (this.registrations > seen) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (this.registrations > seen) resolve();
        else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }
}
