import { randomBytes } from "node:crypto";
import type { V4Event } from "@tessera/protocol";
import type { LiveServiceSession } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import { maxBatchSize, visibleEventsAfter } from "./events.ts";
import { type DatafeedRow, findDatafeed } from "./feeds.ts";
import { type FeedPosition, isAfter, latestSettledPosition } from "./positions.ts";
import { AuditWakeUp } from "./wake-up.ts";

/** How long reads wait and when unacknowledged events come back (contract §3: 30 s each). */
export interface DatafeedTiming {
  longPollMs: number;
  redeliveryMs: number;
  /** Safety net: look again now and then even when nothing was heard (e.g. another process on SQLite). */
  safetyRecheckMs?: number;
}

export const defaultDatafeedTiming: DatafeedTiming = { longPollMs: 30_000, redeliveryMs: 30_000 };

/** Re-check period while notifications might be missed (the change feed is not live). */
const notLiveRecheckMs = 1_000;
/** Re-check period while a newer event waits for an older transaction to settle (PostgreSQL). */
const unsettledRecheckMs = 100;
const defaultSafetyRecheckMs = 10_000;

export interface ReadResult {
  events: V4Event[];
  ackId: string;
}

type Attempt = { kind: "events"; result: ReadResult } | { kind: "wait"; ms: number } | { kind: "conflict" };

/**
 * One `POST /agent/v5/datafeeds/{id}/read`. `ackId` equal to the batch in flight acknowledges it
 * (those events never come back); then the next events go out as a new batch with a new ackId.
 * A batch not acknowledged within `redeliveryMs` goes out again, from the first unacknowledged
 * event, so delivery is at least once and in order. With nothing to send, waits until an event
 * arrives (woken by the change feed) or `longPollMs` passes, then answers `{events: [], ackId}`.
 * Every wait, deadline and re-check runs on `ctx.clock`.
 */
export async function readDatafeed(
  ctx: AppContext,
  reader: LiveServiceSession,
  feedId: string,
  ackId: string,
  timing: DatafeedTiming,
  signal?: AbortSignal,
): Promise<ReadResult> {
  // Unknown or another user's feed: 400 before anything else.
  await findDatafeed(ctx, reader, feedId);
  const wakeUp = new AuditWakeUp(ctx.storage.changes, reader.orgId, ctx.clock);
  let deadline = ctx.clock.now() + timing.longPollMs;
  try {
    for (;;) {
      wakeUp.reset();
      const feed = await findDatafeed(ctx, reader, feedId);
      const attempt = await attemptRead(ctx, reader, feed, ackId, timing);
      if (attempt.kind === "events") return attempt.result;
      if (attempt.kind === "conflict") continue;
      const now = ctx.clock.now();
      // A clock set back (operators may shift it) must not stretch the wait past one long-poll from now.
      deadline = Math.min(deadline, now + timing.longPollMs);
      const remaining = deadline - now;
      if (remaining <= 0 || signal?.aborted) return { events: [], ackId: emptyAnswerAckId(ackId) };
      const recheck = wakeUp.live ? (timing.safetyRecheckMs ?? defaultSafetyRecheckMs) : notLiveRecheckMs;
      await wakeUp.wait(Math.min(remaining, attempt.ms, recheck), signal);
    }
  } finally {
    wakeUp.close();
  }
}

/**
 * The ackId of an empty answer acknowledges nothing: the caller's own (already used, or not the
 * batch in flight), or a fresh one on a first read.
 */
function emptyAnswerAckId(sent: string): string {
  return sent !== "" ? sent : newAckId();
}

function newAckId(): string {
  return randomBytes(18).toString("base64url");
}

async function attemptRead(
  ctx: AppContext,
  reader: LiveServiceSession,
  feed: DatafeedRow,
  ackId: string,
  timing: DatafeedTiming,
): Promise<Attempt> {
  let current = feed;
  if (ackId !== "" && current.pending_ack_id !== null && constantTimeEqual(ackId, current.pending_ack_id)) {
    const acked = await updateFeed(ctx, current, {
      acked_tx: current.pending_tx ?? current.acked_tx,
      acked_id: current.pending_id ?? current.acked_id,
      pending_ack_id: null,
      pending_tx: null,
      pending_id: null,
      pending_sent_at: null,
    });
    if (!acked) return { kind: "conflict" };
    current = acked;
  }

  const now = ctx.clock.now();
  if (current.pending_sent_at !== null) {
    // A batch is in flight: nothing newer may overtake it, and it comes back only when it is due.
    const dueIn = current.pending_sent_at + timing.redeliveryMs - now;
    if (dueIn > 0) return { kind: "wait", ms: dueIn };
  }

  const horizon = await ctx.storage.settledAuditHorizon(ctx.db);
  const acked: FeedPosition = { tx: current.acked_tx, id: current.acked_id };
  const visible = await visibleEventsAfter(ctx.db, reader, acked, horizon);
  const last = visible.at(-1);
  // Past a full batch the next one starts right after it; otherwise everything settled was seen.
  const settled = await latestSettledPosition(ctx, ctx.db, horizon);
  const end = last && visible.length === maxBatchSize ? last.position : maxPosition(last?.position, settled, acked);

  if (!last) {
    // Nothing this reader may see: move past what it may not, drop a due batch that is no longer visible.
    if (isAfter(end, acked) || current.pending_sent_at !== null) {
      const moved = await updateFeed(ctx, current, {
        acked_tx: end.tx,
        acked_id: end.id,
        pending_ack_id: null,
        pending_tx: null,
        pending_id: null,
        pending_sent_at: null,
      });
      if (!moved) return { kind: "conflict" };
    }
    const unsettled = await ctx.db
      .selectFrom("audit_events")
      .select("id")
      .where("tx_id", ">=", horizon)
      .limit(1)
      .executeTakeFirst();
    return { kind: "wait", ms: unsettled ? unsettledRecheckMs : Number.POSITIVE_INFINITY };
  }

  const batchAckId = newAckId();
  const sent = await updateFeed(ctx, current, {
    pending_ack_id: batchAckId,
    pending_tx: end.tx,
    pending_id: end.id,
    pending_sent_at: now,
  });
  if (!sent) return { kind: "conflict" };
  return { kind: "events", result: { events: visible.map((entry) => entry.event), ackId: batchAckId } };
}

function maxPosition(...positions: Array<FeedPosition | undefined>): FeedPosition {
  let best: FeedPosition = { tx: 0, id: 0 };
  for (const position of positions) if (position && isAfter(position, best)) best = position;
  return best;
}

type FeedChange = Partial<
  Pick<DatafeedRow, "acked_tx" | "acked_id" | "pending_ack_id" | "pending_tx" | "pending_id" | "pending_sent_at">
>;

/**
 * Applies `change` only if nobody changed the feed since it was read (its version), so two
 * reads of one feed, on any nodes, never both acknowledge or hand out the same batch.
 */
async function updateFeed(ctx: AppContext, feed: DatafeedRow, change: FeedChange): Promise<DatafeedRow | undefined> {
  const result = await ctx.db
    .updateTable("datafeeds")
    .set({ ...change, version: feed.version + 1 })
    .where("id", "=", feed.id)
    .where("version", "=", feed.version)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return undefined;
  return { ...feed, ...change, version: feed.version + 1 };
}
