/**
 * Wall-clock time for every expiry (DESIGN §7: operators and tests may shift the whole
 * process's clock). Passed in rather than read everywhere, so tests can freeze or advance it.
 */
export interface Clock {
  /** Unix milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function toUnixSeconds(milliseconds: number): number {
  return Math.floor(milliseconds / 1000);
}
