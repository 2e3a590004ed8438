import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { countAudit, createMember, createOrg, memberPassword, setSessionPolicy } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { VirtualTime } from "@tessera/test-kit/virtual-time.ts";
import { UserSession, type UserSessionEvents } from "../src/index.ts";

const minute = 60_000;
const hour = 60 * minute;

function recordEvents(session: UserSession) {
  const events: Array<{ name: keyof UserSessionEvents; payload: unknown }> = [];
  session.on("renewed", (payload) => events.push({ name: "renewed", payload }));
  session.on("expired", (payload) => events.push({ name: "expired", payload }));
  session.on("failed", (payload) => events.push({ name: "failed", payload }));
  return events;
}

/** Calls GET /user/users/me every `stepMs` of virtual time for `durationMs`; returns the statuses that were not 200. */
async function callContinuously(session: UserSession, time: VirtualTime, durationMs: number, stepMs: number) {
  const failures: number[] = [];
  let calls = 0;
  for (let elapsed = 0; elapsed < durationMs; elapsed += stepMs) {
    await time.advance(stepMs);
    const response = await session.fetch("/user/users/me");
    const body = (await response.json()) as { sessionExpiresAt?: number };
    calls++;
    if (response.status !== 200) failures.push(response.status);
    else assert.ok((body.sessionExpiresAt ?? 0) * 1000 > time.now(), "the session the call used was live");
  }
  return { calls, failures };
}

describe("UserSession continuity", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("keeps a client calling through 8 hours of 15-minute windows with zero failed calls", async () => {
    const time = new VirtualTime(tessera.clock);
    const loginsBefore = await countAudit(tessera, "session.created");
    const renewalsBefore = await countAudit(tessera, "session.renewed");
    const session = await UserSession.login({
      baseUrl: tessera.baseUrl,
      email: adminEmail,
      password: adminPassword,
      selectedOrg: tessera.orgId,
      clock: time,
      random: () => 0,
    });
    const events = recordEvents(session);

    const { calls, failures } = await callContinuously(session, time, 8 * hour, minute);

    assert.equal(calls, 480);
    assert.deepEqual(failures, []);
    const renewals = (await countAudit(tessera, "session.renewed")) - renewalsBefore;
    // Without jitter a renewal falls at 2/3 of each 15-minute window: every 10 minutes.
    assert.equal(renewals, 48);
    assert.ok(renewals >= (8 * 60) / 15, "at least one renewal per window");
    assert.equal(events.filter((event) => event.name === "renewed").length, renewals);
    assert.deepEqual(
      events.filter((event) => event.name !== "renewed"),
      [],
      "no failure and no expiry on the way",
    );
    assert.equal((await countAudit(tessera, "session.created")) - loginsBefore, 1, "one login, then renewals only");
    await session.close();
  });

  it("logs in again before the absolute cap ends the session, still with zero failed calls", async () => {
    const orgId = await createOrg(tessera, "Capped");
    await setSessionPolicy(tessera, orgId, {
      userIdleSeconds: 900,
      userAbsoluteSeconds: 3600,
      serviceSessionSeconds: 86400,
      renewGraceSeconds: 30,
    });
    await createMember(tessera, { email: "capped@example.com", orgId });
    const time = new VirtualTime(tessera.clock);
    const session = await UserSession.login({
      baseUrl: tessera.baseUrl,
      email: "capped@example.com",
      password: memberPassword,
      clock: time,
    });
    const events = recordEvents(session);

    const { failures } = await callContinuously(session, time, 3 * hour, minute);

    assert.deepEqual(failures, []);
    const relogins = events.filter(
      (event) => event.name === "renewed" && (event.payload as { relogin: boolean }).relogin,
    );
    assert.ok(relogins.length >= 2, `a fresh login at each one-hour cap (saw ${relogins.length})`);
    assert.equal(events.filter((event) => event.name === "failed" || event.name === "expired").length, 0);
    await session.close();
  });

  it("logs in again after the machine slept through the window: expired, then renewed", async () => {
    const time = new VirtualTime(tessera.clock);
    const session = await UserSession.login({
      baseUrl: tessera.baseUrl,
      email: adminEmail,
      password: adminPassword,
      selectedOrg: tessera.orgId,
      clock: time,
    });
    const events = recordEvents(session);
    const oldToken = session.token;

    // The process is suspended: server time runs on, no client timer fires.
    await tessera.clock.advance(40 * minute);
    await time.advance(0);

    assert.deepEqual(
      events.map((event) => event.name),
      ["expired", "renewed"],
    );
    assert.deepEqual(events[0]?.payload, { reason: "unauthorized" });
    assert.deepEqual(events[1]?.payload, { expiresAt: session.expiresAt, relogin: true });
    assert.notEqual(session.token, oldToken);
    assert.equal((await session.fetch("/user/users/me")).status, 200);
    await session.close();
  });

  it("without a password, a lapsed session emits expired and does not log in", async () => {
    const time = new VirtualTime(tessera.clock);
    const login = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: adminPassword, selectedOrg: tessera.orgId },
    });
    const loginsBefore = await countAudit(tessera, "session.created");
    const session = UserSession.fromToken({
      baseUrl: tessera.baseUrl,
      token: login.body.token,
      expiresAt: new Date(login.body.expiresAt * 1000),
      clock: time,
    });
    const events = recordEvents(session);

    await tessera.clock.advance(40 * minute);
    await time.advance(0);

    assert.deepEqual(
      events.map((event) => event.name),
      ["expired", "failed"],
    );
    assert.equal((events[1]?.payload as { willRetry?: boolean } | undefined)?.willRetry, false);
    assert.equal(time.pendingTimers, 0, "nothing left scheduled");
    const response = await session.fetch("/user/users/me");
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { code: string }).code, "invalid_token");
    assert.equal(await countAudit(tessera, "session.created"), loginsBefore);
  });
});
