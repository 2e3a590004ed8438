import { type Static, Type } from "@sinclair/typebox";
import { Email, Id, Password, RoleName } from "./common.ts";

export const CreateOrgRequest = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export const Org = Type.Object({ id: Id, name: Type.String() });
export type Org = Static<typeof Org>;

export const UserKind = Type.Union([Type.Literal("person"), Type.Literal("service")]);

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

export const CreateOrgUserRequest = Type.Object(
  {
    email: Email,
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    password: Type.Optional(Password),
    role: RoleName,
    kind: Type.Optional(UserKind),
    username: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "Service users: the certificate CN" }),
    ),
  },
  { additionalProperties: false },
);
export type CreateOrgUserRequest = Static<typeof CreateOrgUserRequest>;

export const UpdateOrgUserRequest = Type.Object(
  { role: Type.Optional(RoleName), active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateOrgUserRequest = Static<typeof UpdateOrgUserRequest>;

export const PasswordPolicy = Type.Object(
  {
    minLength: Type.Integer({ minimum: 8, maximum: 1024 }),
    maxAgeDays: Type.Integer({ minimum: 0, maximum: 3650, description: "0 means never" }),
    historyCount: Type.Integer({ minimum: 0, maximum: 50 }),
    maxFailedAttempts: Type.Integer({ minimum: 1, maximum: 1000 }),
    lockoutMinutes: Type.Integer({ minimum: 1, maximum: 10080 }),
  },
  { additionalProperties: false },
);
export type PasswordPolicy = Static<typeof PasswordPolicy>;

export const SessionPolicy = Type.Object(
  {
    userIdleSeconds: Type.Integer({ minimum: 60, maximum: 86400, default: 900 }),
    userAbsoluteSeconds: Type.Integer({ minimum: 300, maximum: 2592000, default: 86400 }),
    serviceSessionSeconds: Type.Integer({ minimum: 3600, maximum: 1209600, default: 86400 }),
    renewGraceSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
  },
  { additionalProperties: false },
);
export type SessionPolicy = Static<typeof SessionPolicy>;

export const SessionSummary = Type.Object({
  id: Id,
  kind: Type.String(),
  userId: Id,
  email: Type.String(),
  createdAt: Type.Integer({ description: "Unix seconds" }),
  expiresAt: Type.Integer({ description: "Unix seconds" }),
  absoluteExpiresAt: Type.Integer({ description: "Unix seconds" }),
});
export type SessionSummary = Static<typeof SessionSummary>;

export const SessionListQuery = Type.Object(
  { userId: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,15}$" })) },
  { additionalProperties: false },
);

export const ApiKeySummary = Type.Object({
  id: Id,
  name: Type.String(),
  orgUserId: Id,
  userId: Id,
  prefix: Type.String({ description: "The first characters of the key, to recognise it" }),
  createdAt: Type.Integer(),
  lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
});
export type ApiKeySummary = Static<typeof ApiKeySummary>;

export const AuditEvent = Type.Object({
  id: Id,
  type: Type.String(),
  orgId: Type.Union([Id, Type.Null()]),
  actorUserId: Type.Union([Id, Type.Null()]),
  subjectUserId: Type.Union([Id, Type.Null()]),
  data: Type.Record(Type.String(), Type.Unknown()),
  ip: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.Integer({ description: "Unix milliseconds" }),
});
export type AuditEvent = Static<typeof AuditEvent>;

export const AuditQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: "^[0-9]{1,16}$", description: "Return events with id > after" })),
    limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$", description: "1…1000, default 100" })),
  },
  { additionalProperties: false },
);
