import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TestClock } from "@tessera/test-kit/test-clock.ts";
import { type Clock, systemClock, type TimerHandle } from "../../src/clock.ts";

/** What both clocks promise: timers fire in order of due time, then of scheduling, unless cancelled. */
const clocks: Array<{ name: string; make: () => Clock; pass: (clock: Clock, ms: number) => Promise<void> }> = [
  {
    name: "systemClock",
    make: () => systemClock,
    pass: (_clock, ms) => new Promise((resolve) => setTimeout(resolve, ms + 20)),
  },
  { name: "TestClock", make: () => new TestClock(), pass: (clock, ms) => (clock as TestClock).advance(ms) },
];

for (const { name, make, pass } of clocks) {
  describe(`${name}: timers`, () => {
    it("fires timers in order of due time, then in the order they were set", async () => {
      const clock = make();
      const fired: string[] = [];
      clock.setTimeout(() => fired.push("c"), 10, true);
      clock.setTimeout(() => fired.push("a"), 0, true);
      clock.setTimeout(() => fired.push("b"), 0, true);
      await pass(clock, 10);
      assert.deepEqual(fired, ["a", "b", "c"]);
    });

    it("never fires a cancelled timer; cancelling one that fired is harmless", async () => {
      const clock = make();
      const fired: string[] = [];
      const cancelled = clock.setTimeout(() => fired.push("cancelled"), 5, true);
      const kept = clock.setTimeout(() => fired.push("kept"), 5, true);
      clock.clearTimeout(cancelled);
      await pass(clock, 5);
      clock.clearTimeout(kept);
      assert.deepEqual(fired, ["kept"]);
    });
  });
}

describe("systemClock", () => {
  it("keeps the process alive only for keepAlive timers", () => {
    const timers = [systemClock.setTimeout(() => {}, 60_000, true), systemClock.setTimeout(() => {}, 60_000, false)];
    // The handle is Node's Timeout underneath; only this test looks.
    const asNode = (handle: TimerHandle) => handle as unknown as NodeJS.Timeout;
    assert.deepEqual(
      timers.map((timer) => asNode(timer).hasRef()),
      [true, false],
    );
    for (const timer of timers) systemClock.clearTimeout(timer);
  });
});

describe("TestClock", () => {
  it("fires each timer with the clock at its due time, and ends the advance where it was asked", async () => {
    const clock = new TestClock(1_000_000);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 300);
    clock.setTimeout(() => seen.push(clock.now()), 100);
    await clock.advance(1_000);
    assert.deepEqual(seen, [1_000_100, 1_000_300]);
    assert.equal(clock.now(), 1_001_000);
    assert.equal(clock.pendingTimers, 0);
  });

  it("fires timers that callbacks set, when they fall due within the same advance", async () => {
    const clock = new TestClock(0);
    const fired: number[] = [];
    const every100 = () => {
      fired.push(clock.now());
      clock.setTimeout(every100, 100);
    };
    clock.setTimeout(every100, 100);
    await clock.advance(350);
    assert.deepEqual(fired, [100, 200, 300]);
    assert.equal(clock.nextDue, 400, "the next one waits for the next advance");
    await clock.advance(50);
    assert.deepEqual(fired, [100, 200, 300, 400]);
  });

  it("waits for an async callback's work, and lets promise callbacks run, before the next timer", async () => {
    const clock = new TestClock(0);
    const log: string[] = [];
    clock.setTimeout(async () => {
      log.push("work starts");
      await new Promise((resolve) => setTimeout(resolve, 10));
      log.push("work ends");
    }, 10);
    clock.setTimeout(() => {
      void Promise.resolve().then(() => log.push("promise callback"));
    }, 20);
    clock.setTimeout(() => log.push("next timer"), 30);
    await clock.advance(30);
    assert.deepEqual(log, ["work starts", "work ends", "promise callback", "next timer"]);
  });

  it("moves at once when nothing falls due, and fires nothing when set back", async () => {
    const clock = new TestClock(5_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push("due at 6000"), 1_000);
    void clock.advance(999);
    assert.equal(clock.now(), 5_999, "moved before the call returned");
    await clock.advance(-999);
    assert.equal(clock.now(), 5_000);
    assert.deepEqual(fired, []);
    await clock.advance(1_000);
    assert.deepEqual(fired, ["due at 6000"]);
  });

  it("tells a test when work it started waits on the clock", async () => {
    const clock = new TestClock(0);
    let waiting = false;
    const parked = clock.whenTimerPending().then(() => {
      waiting = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(waiting, false);
    clock.setTimeout(() => {}, 1_000);
    await parked;
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextDue, 1_000);
    await clock.whenTimerPending();
  });
});
