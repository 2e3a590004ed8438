import { type Static, Type } from "@sinclair/typebox";
import { Email, Id, IdParam, Password, RoleName } from "./common.ts";

// Request schemas carry no `default`: Fastify's validator would fill missing fields in, and a
// PUT must send the whole object. Defaults are documented in the descriptions instead.

export const OrgParams = Type.Object({ orgId: IdParam });
export const OrgUserParams = Type.Object({ orgId: IdParam, userId: IdParam });
export const OrgSessionParams = Type.Object({ orgId: IdParam, sessionId: IdParam });
export const OrgResourceParams = Type.Object({ orgId: IdParam, id: IdParam });

export const CreateOrgRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" }) },
  { additionalProperties: false },
);
export type CreateOrgRequest = Static<typeof CreateOrgRequest>;
export const Org = Type.Object({ id: Id, name: Type.String() });
export type Org = Static<typeof Org>;

export const UserKind = Type.Union([Type.Literal("person"), Type.Literal("service")], {
  description: "person (the default) or service (authenticates with a client certificate)",
});

export const OrgUser = Type.Object({
  id: Id,
  orgUserId: Id,
  email: Type.String(),
  displayName: Type.String(),
  kind: UserKind,
  username: Type.Union([Type.String(), Type.Null()]),
  role: RoleName,
  active: Type.Boolean({ description: "Both the user and the membership are active" }),
});
export type OrgUser = Static<typeof OrgUser>;
export const OrgUserList = Type.Array(OrgUser);

export const CreateOrgUserRequest = Type.Object(
  {
    email: Email,
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Password),
    role: RoleName,
    kind: Type.Optional(UserKind),
    username: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, pattern: "^\\S+$", description: "Service users: the certificate CN" }),
    ),
  },
  { additionalProperties: false },
);
export type CreateOrgUserRequest = Static<typeof CreateOrgUserRequest>;

export const UpdateOrgUserRequest = Type.Object(
  {
    role: Type.Optional(RoleName),
    active: Type.Optional(Type.Boolean({ description: "The membership's flag in this org" })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateOrgUserRequest = Static<typeof UpdateOrgUserRequest>;

export const PasswordPolicy = Type.Object(
  {
    minLength: Type.Integer({ minimum: 8, maximum: 1024, description: "Default 12" }),
    maxAgeDays: Type.Integer({ minimum: 0, maximum: 3650, description: "0 means never (the default)" }),
    historyCount: Type.Integer({ minimum: 0, maximum: 50, description: "Default 5" }),
    maxFailedAttempts: Type.Integer({ minimum: 1, maximum: 1000, description: "Default 5" }),
    lockoutMinutes: Type.Integer({ minimum: 1, maximum: 10080, description: "Default 15" }),
  },
  { additionalProperties: false },
);
export type PasswordPolicy = Static<typeof PasswordPolicy>;

export const SessionPolicy = Type.Object(
  {
    userIdleSeconds: Type.Integer({ minimum: 60, maximum: 86400, description: "Default 900" }),
    userAbsoluteSeconds: Type.Integer({
      minimum: 300,
      maximum: 2592000,
      description: "Default 43200 (12 h); not below userIdleSeconds",
    }),
    serviceSessionSeconds: Type.Integer({ minimum: 3600, maximum: 1209600, description: "Default 86400" }),
    renewGraceSeconds: Type.Integer({ minimum: 0, maximum: 300, description: "Default 30" }),
  },
  { additionalProperties: false },
);
export type SessionPolicy = Static<typeof SessionPolicy>;

export const SessionSummary = Type.Object({
  id: Id,
  kind: Type.String({ description: "user | service | keymanager" }),
  userId: Id,
  orgUserId: Id,
  email: Type.String(),
  createdAt: Type.Integer({ description: "Unix seconds" }),
  expiresAt: Type.Integer({ description: "Unix seconds: end of the current window" }),
  absoluteExpiresAt: Type.Integer({ description: "Unix seconds: renewals never reach past this" }),
});
export type SessionSummary = Static<typeof SessionSummary>;
export const SessionList = Type.Array(SessionSummary);

export const SessionListQuery = Type.Object({ userId: Type.Optional(IdParam) }, { additionalProperties: false });
export type SessionListQuery = Static<typeof SessionListQuery>;

export const ApiKeySummary = Type.Object({
  id: Id,
  name: Type.String(),
  orgUserId: Id,
  userId: Id,
  prefix: Type.String({ description: "The first characters of the key, to recognise it" }),
  createdAt: Type.Integer({ description: "Unix seconds" }),
  lastUsedAt: Type.Union([Type.Integer(), Type.Null()], {
    description: "Unix seconds, to the minute; null if never used",
  }),
});
export type ApiKeySummary = Static<typeof ApiKeySummary>;
export const ApiKeyList = Type.Array(ApiKeySummary);

export const AuditEvent = Type.Object({
  id: Id,
  type: Type.String(),
  orgId: Type.Union([Id, Type.Null()]),
  actorUserId: Type.Union([Id, Type.Null()], { description: "Null for the system itself" }),
  subjectUserId: Type.Union([Id, Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  ip: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer({ description: "Unix milliseconds" }),
});
export type AuditEvent = Static<typeof AuditEvent>;
export const AuditEventList = Type.Array(AuditEvent);

export const AuditQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({ pattern: "^[0-9]{1,16}$", description: "Return events with id > after (default 0)" }),
    ),
    limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$", description: "1…1000, default 100" })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const CreateIntrospectionClientRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, pattern: "\\S", description: "Who uses it, for admins" }) },
  { additionalProperties: false },
);
export type CreateIntrospectionClientRequest = Static<typeof CreateIntrospectionClientRequest>;

/** A resource server registered to introspect the org's tokens (never its secret). */
export const IntrospectionClient = Type.Object({
  id: Id,
  name: Type.String(),
  clientId: Type.String({ description: "The client_id of client_secret_basic / client_secret_post" }),
  createdAt: Type.Integer({ description: "Unix seconds" }),
});
export type IntrospectionClient = Static<typeof IntrospectionClient>;
export const IntrospectionClientList = Type.Array(IntrospectionClient);

export const CreatedIntrospectionClient = Type.Composite([
  IntrospectionClient,
  Type.Object({ clientSecret: Type.String({ description: "Shown once; only its hash is stored" }) }),
]);
export type CreatedIntrospectionClient = Static<typeof CreatedIntrospectionClient>;
