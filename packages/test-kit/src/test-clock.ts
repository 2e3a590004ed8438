import type { Clock } from "@tessera/server/internal/clock.ts";

/** A clock a test moves by hand, so expiry is tested without sleeping. */
export class TestClock implements Clock {
  constructor(private current = Date.now()) {}

  now(): number {
    return this.current;
  }

  /** Whole milliseconds, like Date.now(): stores keep times as 64-bit integers (PostgreSQL refuses fractions). */
  advance(milliseconds: number): void {
    this.current = Math.round(this.current + milliseconds);
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }
}
