import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, addUser } from "@tessera/test-kit/admin.ts";
import {
  type AgentTokens,
  addBot,
  agentLogin,
  agentRequest,
  type Bot,
  createFeed,
  readFeed,
} from "@tessera/test-kit/agent.ts";
import { memberPassword, setPasswordPolicy } from "@tessera/test-kit/fixtures.ts";
import {
  adminEmail,
  adminPassword,
  startTestInstance,
  type TestInstance,
  type TestResponse,
  untilChangeFeedLive,
} from "@tessera/test-kit/instance.ts";
import { sweepExpiries } from "../../src/sessions/expiry-sweeper.ts";

/** Symphony's error shape on /agent: {code: <status>, message, reason: <stable code>}. */
function assertSymphonyError(response: TestResponse, status: number, reason: string): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body?.code, status, response.text);
  assert.equal(response.body?.reason, reason, response.text);
  assert.equal(typeof response.body?.message, "string");
}

describe("datafeeds: the agent's v5 API (contract §3)", () => {
  const longPollMs = 600;
  let tessera: TestInstance;
  let adminToken = "";
  let bot: Bot;
  let tokens: AgentTokens;

  before(async () => {
    // Reads wait on the test clock; redelivery is due 30 s of it after a batch went out.
    tessera = await startTestInstance({ datafeedTiming: { longPollMs, redeliveryMs: 30_000 } });
    adminToken = await tessera.login(adminEmail, adminPassword);
    bot = await addBot(tessera, adminToken);
    tokens = await agentLogin(tessera, bot);
  });
  after(async () => {
    await tessera.close();
  });

  /** A read that finds nothing waits on the test clock: moved to the long-poll's deadline, it answers. */
  async function readUntilDeadline(readerTokens: AgentTokens, feedId: string, ackId: string) {
    const reading = readFeed(tessera, readerTokens, feedId, ackId);
    await tessera.clock.whenTimerPending();
    await tessera.clock.advance(longPollMs);
    return reading;
  }

  it("creates (201, id ending in _f), lists and deletes feeds; a deleted feed reads 400", async () => {
    const created = await agentRequest(tessera, tokens, "/agent/v5/datafeeds", { body: { tag: null } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.type, "datafeed");
    assert.match(created.body.id, /^[A-Za-z0-9_-]{20,}_f$/);
    // A bodiless POST with Content-Type: application/json, as Symphony's clients send, works too.
    const bodiless = await agentRequest(tessera, tokens, "/agent/v5/datafeeds", {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    assert.equal(bodiless.status, 201, bodiless.text);

    const listed = await agentRequest(tessera, tokens, "/agent/v5/datafeeds");
    assert.equal(listed.status, 200);
    const ids = listed.body.map((feed: { id: string; type: string }) => feed.id);
    assert.ok(ids.includes(created.body.id) && ids.includes(bodiless.body.id));
    assert.ok(listed.body.every((feed: { type: string }) => feed.type === "datafeed"));

    const path = `/agent/v5/datafeeds/${created.body.id}`;
    assert.equal((await agentRequest(tessera, tokens, path, { method: "DELETE" })).status, 204);
    assert.equal((await agentRequest(tessera, tokens, path, { method: "DELETE" })).status, 204, "already gone");
    assertSymphonyError(
      await agentRequest(tessera, tokens, `${path}/read`, { body: { ackId: "" } }),
      400,
      "datafeed_not_found",
    );
    assertSymphonyError(
      await agentRequest(tessera, tokens, "/agent/v5/datafeeds/never-was_f/read", { body: { ackId: "" } }),
      400,
      "datafeed_not_found",
    );
    const after = await agentRequest(tessera, tokens, "/agent/v5/datafeeds");
    assert.ok(!after.body.some((feed: { id: string }) => feed.id === created.body.id));
    await agentRequest(tessera, tokens, `/agent/v5/datafeeds/${bodiless.body.id}`, { method: "DELETE" });
  });

  it("allows at most 20 feeds per user (403 datafeed_limit_reached), and creates none past it", async () => {
    const limited = await addBot(tessera, adminToken);
    const limitedTokens = await agentLogin(tessera, limited);
    for (let i = 0; i < 20; i++) await createFeed(tessera, limitedTokens);
    assertSymphonyError(
      await agentRequest(tessera, limitedTokens, "/agent/v5/datafeeds", { body: { tag: "one too many" } }),
      403,
      "datafeed_limit_reached",
    );
    const listed = await agentRequest(tessera, limitedTokens, "/agent/v5/datafeeds");
    assert.equal(listed.body.length, 20);
    // Another user is not affected by this one's feeds.
    await createFeed(tessera, tokens);
  });

  it("answers 400 for another user's feed, and that user's DELETE leaves it in place", async () => {
    const feedId = await createFeed(tessera, tokens);
    const other = await agentLogin(tessera, await addBot(tessera, adminToken));
    assertSymphonyError(
      await agentRequest(tessera, other, `/agent/v5/datafeeds/${feedId}/read`, { body: { ackId: "" } }),
      400,
      "datafeed_not_found",
    );
    assert.equal(
      (await agentRequest(tessera, other, `/agent/v5/datafeeds/${feedId}`, { method: "DELETE" })).status,
      204,
    );
    const mine = await agentRequest(tessera, tokens, "/agent/v5/datafeeds");
    assert.ok(
      mine.body.some((feed: { id: string }) => feed.id === feedId),
      "the owner's feed survives",
    );
    const stranger = await agentRequest(tessera, other, "/agent/v5/datafeeds");
    assert.ok(!stranger.body.some((feed: { id: string }) => feed.id === feedId), "never listed to another user");
  });

  it("requires both tokens of one live user (401 invalid_token / token_user_mismatch)", async () => {
    const path = "/agent/v5/datafeeds";
    const only = (headers: Record<string, string>) => tessera.request(path, { headers });
    assertSymphonyError(await only({ sessionToken: tokens.sessionToken }), 401, "invalid_token");
    assertSymphonyError(await only({ keyManagerToken: tokens.keyManagerToken }), 401, "invalid_token");
    assertSymphonyError(await only({}), 401, "invalid_token");
    assertSymphonyError(
      await only({ sessionToken: tokens.keyManagerToken, keyManagerToken: tokens.sessionToken }),
      401,
      "invalid_token",
    );
    const other = await agentLogin(tessera, await addBot(tessera, adminToken));
    assertSymphonyError(
      await only({ sessionToken: tokens.sessionToken, keyManagerToken: other.keyManagerToken }),
      401,
      "token_user_mismatch",
    );
    const feedsBefore = (await agentRequest(tessera, other, path)).body.length;
    assertSymphonyError(
      await tessera.request(path, {
        body: {},
        headers: { sessionToken: other.sessionToken, keyManagerToken: tokens.keyManagerToken },
      }),
      401,
      "token_user_mismatch",
    );
    assert.equal((await agentRequest(tessera, other, path)).body.length, feedsBefore, "no feed was created");
    // A revoked session is felt on the next call.
    const revoked = await tessera.request("/sessionauth/v1/logout", {
      method: "POST",
      headers: { sessionToken: other.sessionToken },
    });
    assert.equal(revoked.status, 200, revoked.text);
    assertSymphonyError(await agentRequest(tessera, other, path), 401, "invalid_token");
  });

  it("acknowledges with the last ackId, redelivers unacknowledged events after 30 s, never an acknowledged one", async () => {
    const reader = await addBot(tessera, adminToken);
    const readerTokens = await agentLogin(tessera, reader);
    const feedId = await createFeed(tessera, readerTokens);
    // Two events about the reader's own account: two more sessions.
    await agentLogin(tessera, reader);

    const first = await readFeed(tessera, readerTokens, feedId, "");
    assert.deepEqual(
      first.events.map((event) => event.type),
      ["SESSION_CREATED", "SESSION_CREATED"],
    );
    assert.ok(first.ackId.length > 0);
    const firstIds = first.events.map((event) => event.id);

    // Not acknowledged, and not yet due: nothing (the batch is in flight).
    const early = await readUntilDeadline(readerTokens, feedId, "");
    assert.deepEqual(early.events, []);
    assert.equal(typeof early.ackId, "string");

    // 30 s later the same events come again, in order, with a new ackId.
    await tessera.clock.advanceSeconds(30);
    const again = await readFeed(tessera, readerTokens, feedId, early.ackId);
    assert.deepEqual(
      again.events.map((event) => event.id),
      firstIds,
    );
    assert.notEqual(again.ackId, first.ackId);

    // The old ackId no longer acknowledges anything; the current one does.
    const stale = await readUntilDeadline(readerTokens, feedId, first.ackId);
    assert.deepEqual(stale.events, []);
    const acked = await readUntilDeadline(readerTokens, feedId, again.ackId);
    assert.deepEqual(acked.events, []);
    await tessera.clock.advanceSeconds(120);
    const never = await readUntilDeadline(readerTokens, feedId, acked.ackId);
    assert.deepEqual(never.events, [], "acknowledged events never come back");

    // The next event comes alone; extra request fields such as updatePresence are accepted.
    await agentLogin(tessera, reader);
    const next = await agentRequest(tessera, readerTokens, `/agent/v5/datafeeds/${feedId}/read`, {
      body: { ackId: never.ackId, updatePresence: false },
    });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.events.length, 2);
    assert.ok(next.body.events.every((event: { id: string }) => !firstIds.includes(event.id)));
    assert.ok(Number(next.body.events[0].id) > Number(firstIds[1]));
  });

  it("answers bad input with 400 invalid_request and leaves the feed as it was", async () => {
    const feedId = await createFeed(tessera, tokens);
    const read = (body: unknown) =>
      agentRequest(tessera, tokens, `/agent/v5/datafeeds/${feedId}/read`, { body: body as Record<string, unknown> });
    assertSymphonyError(await read({ ackId: 5 }), 400, "invalid_request");
    assertSymphonyError(await read({ ackId: "x".repeat(201) }), 400, "invalid_request");
    assertSymphonyError(
      await agentRequest(tessera, tokens, "/agent/v5/datafeeds", { body: { tag: 7 } }),
      400,
      "invalid_request",
    );
    const malformed = await tessera.request(`/agent/v5/datafeeds/${feedId}/read`, {
      rawBody: "{not json",
      headers: { sessionToken: tokens.sessionToken, keyManagerToken: tokens.keyManagerToken },
    });
    assert.equal(malformed.status, 400, malformed.text);
    const row = await tessera.ctx.db
      .selectFrom("datafeeds")
      .selectAll()
      .where("id", "=", feedId)
      .executeTakeFirstOrThrow();
    assert.equal(row.version, 0, "no read touched the feed");
    assert.equal(row.pending_ack_id, null);
  });

  it("wraps events in the V4Event envelope, with no token in them", async () => {
    const reader = await addBot(tessera, adminToken);
    const readerTokens = await agentLogin(tessera, reader);
    const feedId = await createFeed(tessera, readerTokens);
    const fresh = await agentLogin(tessera, reader);
    const batch = await readFeed(tessera, readerTokens, feedId, "");
    // biome-ignore lint/suspicious/noExplicitAny: the test inspects the JSON envelope
    const event = batch.events[0] as Record<string, any>;
    assert.equal(typeof event.id, "string");
    assert.equal(typeof event.timestamp, "number");
    assert.equal(event.type, "SESSION_CREATED");
    assert.equal(event.initiator.user.userId, reader.id);
    assert.equal(event.initiator.user.username, reader.username);
    assert.equal(event.payload.auditType, "session.created");
    assert.equal(event.payload.subjectUserId, reader.id);
    assert.equal(event.payload.details.method, "key_pair");
    const text = JSON.stringify(batch);
    for (const secret of [fresh.sessionToken, fresh.keyManagerToken, readerTokens.sessionToken]) {
      assert.ok(!text.includes(secret));
    }
    assert.ok(!/tss_|tsm_|tsu_/.test(text));
  });

  it("filters by the reader's current role: a service user sees its own events, an auditor the org's", async () => {
    const own = await addBot(tessera, adminToken);
    const auditor = await addBot(tessera, adminToken, "auditor");
    const ownTokens = await agentLogin(tessera, own);
    const auditorTokens = await agentLogin(tessera, auditor);
    const ownFeed = await createFeed(tessera, ownTokens);
    const auditorFeed = await createFeed(tessera, auditorTokens);

    const person = await addMemberWithSession(tessera, adminToken, "member");
    await agentLogin(tessera, own);

    const ownBatch = await readFeed(tessera, ownTokens, ownFeed, "");
    assert.deepEqual(
      ownBatch.events.map((event) => [event.type, (event.payload as { subjectUserId: number }).subjectUserId]),
      [
        ["SESSION_CREATED", own.id],
        ["SESSION_CREATED", own.id],
      ],
      "its pod and key-manager sessions",
    );
    const auditorBatch = await readFeed(tessera, auditorTokens, auditorFeed, "");
    const seen = auditorBatch.events.map((event) => [
      event.type,
      (event.payload as { subjectUserId: number }).subjectUserId,
    ]);
    assert.deepEqual(seen, [
      ["USER_CREATED", person.id],
      ["SESSION_CREATED", person.id],
      ["SESSION_CREATED", own.id],
      ["SESSION_CREATED", own.id],
    ]);

    // Demoted to `service`: from the next read on, only its own events.
    const demoted = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${auditor.id}`, {
      method: "PATCH",
      token: adminToken,
      body: { role: "service" },
    });
    assert.equal(demoted.status, 200, demoted.text);
    await tessera.login(person.email, memberPassword);
    const afterDemotion = await readFeed(tessera, auditorTokens, auditorFeed, auditorBatch.ackId);
    assert.deepEqual(
      afterDemotion.events.map((event) => [event.type, (event.payload as { subjectUserId: number }).subjectUserId]),
      [["ROLE_CHANGED", auditor.id]],
    );
  });

  it("records session.expired and password.expiring once, even when sweepers race", async () => {
    const auditor = await addBot(tessera, adminToken, "auditor");
    const auditorTokens = await agentLogin(tessera, auditor);
    const feedId = await createFeed(tessera, auditorTokens);
    await setPasswordPolicy(tessera, tessera.orgId, { maxAgeDays: 30 });
    const person = await addUser(tessera, adminToken, { role: "member" });

    // 24 days later: inside the 7-day warning window of the new password; every session so far has expired.
    await tessera.clock.advanceSeconds(24 * 86_400);
    const [one, two] = await Promise.all([sweepExpiries(tessera.ctx), sweepExpiries(tessera.ctx)]);
    const again = await sweepExpiries(tessera.ctx);
    assert.equal(again.sessions + again.passwords, 0, "nothing is recorded twice");
    assert.ok((one?.sessions ?? 0) + (two?.sessions ?? 0) > 0);

    const fresh = await agentLogin(tessera, auditor);
    const batch = await readFeed(tessera, fresh, feedId, "");
    const expiredSessions = batch.events.filter((event) => event.type === "SESSION_EXPIRED");
    const ids = expiredSessions.map((event) => (event.payload as { details: { sessionId: number } }).details.sessionId);
    assert.equal(new Set(ids).size, ids.length, "each expiry once");
    assert.ok(expiredSessions.length >= 2);
    const expiring = batch.events.filter((event) => event.type === "PASSWORD_EXPIRING");
    assert.ok(expiring.some((event) => (event.payload as { subjectUserId: number }).subjectUserId === person.id));
    assert.equal(
      expiring.filter((event) => (event.payload as { subjectUserId: number }).subjectUserId === person.id).length,
      1,
    );
    void auditorTokens;
  });
});

describe("datafeeds: long-poll", () => {
  const longPollMs = 25_000;
  let tessera: TestInstance;
  before(async () => {
    // Reads wait on the test clock, which this test never moves: neither the deadline nor a
    // re-check (none before it) can answer a read, only the wake-up of an event's notification.
    tessera = await startTestInstance({
      datafeedTiming: { longPollMs, redeliveryMs: 30_000, safetyRecheckMs: 60_000 },
    });
  });
  after(async () => {
    await tessera.close();
  });

  // Without the wake-up the read never answers, and the test times out.
  it("wakes as soon as an event arrives", { timeout: 15_000 }, async () => {
    const adminToken = await tessera.login(adminEmail, adminPassword);
    const bot = await addBot(tessera, adminToken);
    const tokens = await agentLogin(tessera, bot);
    const feedId = await createFeed(tessera, tokens);
    // Notifications are heard from here on (on PostgreSQL, once LISTEN is up).
    await untilChangeFeedLive(tessera.storage);
    const reading = readFeed(tessera, tokens, feedId, "");
    await tessera.clock.whenTimerPending();
    assert.equal(
      tessera.clock.nextDue,
      tessera.clock.now() + longPollMs,
      "the read found nothing, waits for its deadline",
    );

    await agentLogin(tessera, bot);
    const batch = await reading;
    assert.ok(batch.events.length >= 1, "woke with the event, not at the 25-s timeout");
    assert.equal(batch.events[0]?.type, "SESSION_CREATED");
  });
});
