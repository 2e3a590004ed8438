import { type Static, Type } from "@sinclair/typebox";

/** `POST /agent/v5/datafeeds` (Symphony's datafeed v5). */
export const CreateDatafeedRequest = Type.Union(
  [
    Type.Object(
      { tag: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])) },
      { additionalProperties: true },
    ),
    Type.Null(),
  ],
  { description: "An optional tag; other fields are ignored" },
);
export type CreateDatafeedRequest = Static<typeof CreateDatafeedRequest>;

export const Datafeed = Type.Object({
  id: Type.String({ description: "Opaque, ending in `_f`" }),
  type: Type.Literal("datafeed"),
});
export type Datafeed = Static<typeof Datafeed>;

export const DatafeedList = Type.Array(Datafeed);

export const DatafeedIdParams = Type.Object({ datafeedId: Type.String({ maxLength: 200 }) });

/** `POST /agent/v5/datafeeds/{id}/read`: extra fields (such as `updatePresence`) are accepted. */
export const ReadDatafeedRequest = Type.Union([
  Type.Object({ ackId: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: true }),
  Type.Null(),
]);
export type ReadDatafeedRequest = Static<typeof ReadDatafeedRequest>;

/** Symphony's `V4Event` envelope around one security or audit event (docs/datafeeds.md). */
export const V4Event = Type.Object({
  id: Type.String(),
  timestamp: Type.Integer({ description: "Unix milliseconds" }),
  type: Type.String(),
  initiator: Type.Object({
    user: Type.Object({
      userId: Type.Optional(Type.Integer()),
      email: Type.Optional(Type.String()),
      displayName: Type.Optional(Type.String()),
      username: Type.Optional(Type.String()),
    }),
  }),
  payload: Type.Record(Type.String(), Type.Unknown()),
});
export type V4Event = Static<typeof V4Event>;

export const ReadDatafeedResponse = Type.Object({
  events: Type.Array(V4Event),
  ackId: Type.String({ description: "Send it with the next read to acknowledge these events" }),
});
export type ReadDatafeedResponse = Static<typeof ReadDatafeedResponse>;
