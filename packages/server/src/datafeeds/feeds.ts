import { randomBytes } from "node:crypto";
import type { Selectable } from "kysely";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { DatafeedTable } from "../storage/schema.ts";
import { latestSettledPosition } from "./positions.ts";

/** At most this many feeds per user (contract §3). */
export const maxFeedsPerUser = 20;

/** The user (and org) a feed belongs to. */
export interface FeedOwner {
  userId: number;
  orgId: number;
}

/** Symphony's feed id form, `<opaque>_f`, which its clients look for when they reuse a feed. */
function newFeedId(): string {
  return `${randomBytes(24).toString("base64url")}_f`;
}

/**
 * Creates a feed that starts at the newest settled audit event: it sees what happens from now
 * on. 403 datafeed_limit_reached past the 20th feed of the user.
 */
export async function createDatafeed(ctx: AppContext, owner: FeedOwner, tag: string | null): Promise<string> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    // Serialises feed creation in the org, so parallel creations cannot pass the limit together.
    await ctx.storage.lockOrg(trx, owner.orgId);
    const counted = await trx
      .selectFrom("datafeeds")
      .select((eb) => eb.fn.countAll<number>().as("feeds"))
      .where("user_id", "=", owner.userId)
      .executeTakeFirst();
    if (Number(counted?.feeds ?? 0) >= maxFeedsPerUser) {
      throw new TesseraError("datafeed_limit_reached", `A user may have at most ${maxFeedsPerUser} datafeeds`);
    }
    const start = await latestSettledPosition(ctx, trx);
    const id = newFeedId();
    await trx
      .insertInto("datafeeds")
      .values({
        id,
        user_id: owner.userId,
        org_id: owner.orgId,
        tag,
        created_at: now,
        acked_tx: start.tx,
        acked_id: start.id,
        pending_ack_id: null,
        pending_tx: null,
        pending_id: null,
        pending_sent_at: null,
        version: 0,
      })
      .execute();
    return id;
  });
}

/** The user's feeds in this org, oldest first (the SDK reuses the first). */
export async function listDatafeeds(ctx: AppContext, owner: FeedOwner): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom("datafeeds")
    .select("id")
    .where("user_id", "=", owner.userId)
    .where("org_id", "=", owner.orgId)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return rows.map((row) => row.id);
}

/** Deletes the feed if it is the caller's; a feed already gone (or never the caller's) is not an error. */
export async function deleteDatafeed(ctx: AppContext, owner: FeedOwner, feedId: string): Promise<void> {
  await ctx.db
    .deleteFrom("datafeeds")
    .where("id", "=", feedId)
    .where("user_id", "=", owner.userId)
    .where("org_id", "=", owner.orgId)
    .execute();
}

export type DatafeedRow = Selectable<DatafeedTable>;

/** The caller's feed, or 400 datafeed_not_found (unknown, deleted, or another user's: indistinguishable). */
export async function findDatafeed(ctx: AppContext, owner: FeedOwner, feedId: string): Promise<DatafeedRow> {
  const feed = await ctx.db.selectFrom("datafeeds").selectAll().where("id", "=", feedId).executeTakeFirst();
  if (!feed || feed.user_id !== owner.userId || feed.org_id !== owner.orgId) {
    throw new TesseraError("datafeed_not_found", "No such datafeed for this user");
  }
  return feed;
}
