import type { Clock } from "../clock.ts";
import { TesseraError } from "../errors/tessera-error.ts";

/**
 * Per-address throttle of failed logins (contract §4), beside the per-account lockout: it slows
 * one address that sprays many accounts. In memory, per node; windows follow `clock`, like every expiry.
 */
export class AddressThrottle {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly clock: Clock,
    /** Failures in one window after which the address must wait for the next. */
    readonly maxFailures = 50,
    private readonly windowMs = 60_000,
    private readonly maxTrackedAddresses = 100_000,
  ) {}

  /** Seconds until `address` may try again, or 0 if it may try now. */
  retryAfterSeconds(address: string): number {
    const entry = this.failures.get(address);
    if (!entry) return 0;
    const elapsed = this.clock.now() - entry.windowStart;
    if (elapsed >= this.windowMs) {
      this.failures.delete(address);
      return 0;
    }
    return entry.count >= this.maxFailures ? Math.ceil((this.windowMs - elapsed) / 1000) : 0;
  }

  /** Counts a failure of `address`; returns how many it has made in the current window, this one included. */
  recordFailure(address: string): number {
    const now = this.clock.now();
    const entry = this.failures.get(address);
    if (entry && now - entry.windowStart < this.windowMs) {
      entry.count++;
      return entry.count;
    }
    if (this.failures.size >= this.maxTrackedAddresses) this.evictExpired(now);
    this.failures.set(address, { count: 1, windowStart: now });
    return 1;
  }

  /** Throws 429 `too_many_requests` with Retry-After while `address` must wait. */
  assertMayTry(address: string, message: string): void {
    const retryAfter = this.retryAfterSeconds(address);
    if (retryAfter > 0) {
      throw new TesseraError("too_many_requests", message, { headers: { "retry-after": String(retryAfter) } });
    }
  }

  private evictExpired(now: number): void {
    for (const [address, entry] of this.failures) {
      if (now - entry.windowStart >= this.windowMs) this.failures.delete(address);
    }
    // Still full of live entries: forget the oldest rather than grow without bound.
    if (this.failures.size >= this.maxTrackedAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }
}
