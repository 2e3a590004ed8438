import type { Clock } from "../clock.ts";
import { auditTopic, type ChangeFeed } from "../storage/change-feed.ts";

/**
 * Listens for "an audit event of this org was written" (on PostgreSQL from any node, on commit).
 * Subscribe BEFORE looking for events, so one written in between is not missed; then `wait`
 * returns as soon as such an event arrives (or one arrived since the last wait), or after `ms`
 * of `clock`.
 */
export class AuditWakeUp {
  private signalled = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly changes: ChangeFeed,
    orgId: number,
    private readonly clock: Clock,
  ) {
    const orgKey = String(orgId);
    this.unsubscribe = changes.subscribe(auditTopic, (change) => {
      // A flush means notifications may have been lost: look again.
      if (change.kind === "flush" || change.key === orgKey || change.key === "") this.fire();
    });
  }

  /** False while notifications might be missed: the caller then re-checks on a slow timer. */
  get live(): boolean {
    return this.changes.live;
  }

  /** Forget earlier signals: the caller is about to look at the database. */
  reset(): void {
    this.signalled = false;
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.signalled || ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.wake = undefined;
        resolve();
      };
      // A client's request waits on it, so it may keep the process alive.
      const timer = this.clock.setTimeout(done, ms, true);
      this.wake = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  close(): void {
    this.unsubscribe();
    this.wake?.();
  }

  private fire(): void {
    this.signalled = true;
    this.wake?.();
  }
}
