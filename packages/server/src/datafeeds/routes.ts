import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import {
  CreateDatafeedRequest,
  Datafeed,
  DatafeedIdParams,
  DatafeedList,
  ReadDatafeedRequest,
  ReadDatafeedResponse,
} from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { requireAgentCaller } from "./agent-caller.ts";
import { createDatafeed, deleteDatafeed, listDatafeeds } from "./feeds.ts";
import { type DatafeedTiming, defaultDatafeedTiming, readDatafeed } from "./read.ts";

const tags = ["Datafeeds"];
const security = [{ sessionToken: [], keyManagerToken: [] }];

/** Symphony's datafeed v5 on the agent (contract §3 "Datafeeds"). */
export function datafeedRoutes(
  ctx: AppContext,
  timing: DatafeedTiming = defaultDatafeedTiming,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    // Long-polls in flight end (with an empty batch) when the server closes, so it closes promptly.
    const polls = new Set<AbortController>();
    let closing = false;
    app.addHook("preClose", async () => {
      closing = true;
      for (const poll of polls) poll.abort();
    });

    app.post("/agent/v5/datafeeds", {
      schema: {
        tags,
        summary: "Create a datafeed (at most 20 per user)",
        security,
        body: Type.Optional(CreateDatafeedRequest),
        response: { 201: Datafeed },
      },
      config: { errors: "symphony" },
      handler: async (request, reply) => {
        const caller = await requireAgentCaller(ctx, request.headers);
        const id = await createDatafeed(ctx, caller, request.body?.tag ?? null);
        return reply.code(201).send({ id, type: "datafeed" as const });
      },
    });

    app.get("/agent/v5/datafeeds", {
      schema: {
        tags,
        summary: "The caller's datafeeds",
        security,
        response: { 200: DatafeedList },
      },
      config: { errors: "symphony" },
      handler: async (request) => {
        const caller = await requireAgentCaller(ctx, request.headers);
        const ids = await listDatafeeds(ctx, caller);
        return ids.map((id) => ({ id, type: "datafeed" as const }));
      },
    });

    app.delete("/agent/v5/datafeeds/:datafeedId", {
      schema: {
        tags,
        summary: "Delete a datafeed (204 also when it is already gone)",
        security,
        params: DatafeedIdParams,
        response: { 204: Type.Null() },
      },
      config: { errors: "symphony" },
      handler: async (request, reply) => {
        const caller = await requireAgentCaller(ctx, request.headers);
        await deleteDatafeed(ctx, caller, request.params.datafeedId);
        return reply.code(204).send(null);
      },
    });

    app.post("/agent/v5/datafeeds/:datafeedId/read", {
      schema: {
        tags,
        summary: "Read events; the ackId of the previous answer acknowledges its events; long-polls up to 30 s",
        security,
        params: DatafeedIdParams,
        body: Type.Optional(ReadDatafeedRequest),
        response: { 200: ReadDatafeedResponse },
      },
      config: { errors: "symphony" },
      handler: async (request, reply) => {
        const caller = await requireAgentCaller(ctx, request.headers);
        const poll = new AbortController();
        polls.add(poll);
        // The client went away: stop waiting for it.
        reply.raw.once("close", () => poll.abort());
        try {
          return await readDatafeed(
            ctx,
            caller,
            request.params.datafeedId,
            request.body?.ackId ?? "",
            timing,
            poll.signal,
          );
        } finally {
          polls.delete(poll);
          // The server is closing: its idle connections were already closed, so close this one too.
          if (closing) reply.header("connection", "close");
        }
      },
    });
  };
}
