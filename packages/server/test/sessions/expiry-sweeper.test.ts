import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { auditEventsOfType } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("expiry sweeper on the server's clock", () => {
  const intervalMs = 30_000;
  let tessera: TestInstance;
  let closed = false;
  before(async () => {
    tessera = await startTestInstance({ expirySweepIntervalMs: intervalMs });
  });
  after(async () => {
    if (!closed) await tessera.close();
  });

  const recordedExpiries = async () =>
    (await auditEventsOfType(tessera, "session.expired")).map((event) => event.data.sessionId);

  it("records a lapsed session's session.expired at the next sweep, once, and stops with the server", async () => {
    await tessera.login();
    const session = await tessera.ctx.db
      .selectFrom("sessions")
      .select(["id", "expires_at"])
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    const lapsesIn = Number(session.expires_at) - tessera.clock.now();
    assert.ok(lapsesIn > intervalMs, "a window of several sweeps");

    // Every sweep up to a moment before the session lapses finds nothing to record.
    await tessera.clock.advance(lapsesIn - 1);
    assert.deepEqual(await recordedExpiries(), []);
    // The sweep that follows the lapse records it, and no later sweep records it again.
    await tessera.clock.advance(intervalMs);
    assert.deepEqual(await recordedExpiries(), [session.id]);
    await tessera.clock.advance(5 * intervalMs);
    assert.deepEqual(await recordedExpiries(), [session.id]);

    assert.equal(tessera.clock.pendingTimers, 1, "the next sweep");
    closed = true;
    await tessera.close();
    assert.equal(tessera.clock.pendingTimers, 0, "closing the server stops the sweeper");
  });
});
