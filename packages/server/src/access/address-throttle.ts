import type { Clock } from "../clock.ts";

/**
 * Per-address throttle of failed logins (contract §4), beside the per-account lockout: it slows
 * one address that sprays many accounts. In memory, per node; windows follow `clock`, like every expiry.
 */
export class AddressThrottle {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxFailures = 50,
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

  recordFailure(address: string): void {
    const now = this.clock.now();
    const entry = this.failures.get(address);
    if (entry && now - entry.windowStart < this.windowMs) {
      entry.count++;
      return;
    }
    if (this.failures.size >= this.maxTrackedAddresses) this.evictExpired(now);
    this.failures.set(address, { count: 1, windowStart: now });
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
