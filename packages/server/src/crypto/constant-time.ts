import { createHash, timingSafeEqual } from "node:crypto";

/** Compares two secrets without leaking, through timing, where they first differ or their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const digestA = createHash("sha256").update(a).digest();
  const digestB = createHash("sha256").update(b).digest();
  return timingSafeEqual(digestA, digestB);
}
