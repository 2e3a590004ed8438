/**
 * A tiny typed event emitter: `on(name, listener)` returns a function that removes the listener.
 * A listener that throws is ignored, so that a bug in one listener never stops renewal.
 *
 * @example
 * ```ts
 * const stop = session.on("renewed", ({ expiresAt }) => console.log("valid until", expiresAt));
 * stop();
 * ```
 */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  /** Adds `listener` for `event`; returns a function that removes it. */
  on<Name extends keyof Events>(event: Name, listener: (payload: Events[Name]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  /** Removes `listener` from `event`. */
  off<Name extends keyof Events>(event: Name, listener: (payload: Events[Name]) => void): void {
    this.listeners.get(event)?.delete(listener);
  }

  protected emit<Name extends keyof Events>(event: Name, payload: Events[Name]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (payload: Events[Name]) => void)(payload);
      } catch {
        // A listener's failure is its own; the session keeps going.
      }
    }
  }
}
