import { type Static, Type } from "@sinclair/typebox";
import { permissions } from "../roles.ts";
import { Email, Id, IdParam, Password, RoleName } from "./common.ts";

export const LoginRequest = Type.Object(
  {
    email: Email,
    password: Password,
    selectedOrg: Type.Optional(
      Type.Union([Id, Type.Null()], {
        description: "Organisation id; may be omitted when the user belongs to exactly one",
      }),
    ),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequest>;

export const SessionTokenResponse = Type.Object({
  token: Type.String({ description: "Opaque bearer token (prefix tsu_)" }),
  expiresAt: Type.Integer({ description: "Unix time in seconds when the token lapses unless renewed" }),
  expiresIn: Type.Integer({ description: "Seconds until expiresAt" }),
  tokenType: Type.Literal("Bearer"),
  userId: Id,
  orgId: Id,
});
export type SessionTokenResponse = Static<typeof SessionTokenResponse>;

export const PermissionName = Type.Union(permissions.map((permission) => Type.Literal(permission)));

export const MeResponse = Type.Object({
  id: Id,
  email: Type.String(),
  displayName: Type.String(),
  kind: Type.Union([Type.Literal("person"), Type.Literal("service")]),
  orgUserId: Id,
  currentOrg: Type.Object({ id: Id, name: Type.String() }),
  role: RoleName,
  permissions: Type.Array(PermissionName),
  authenticatedWith: Type.Union([Type.Literal("session"), Type.Literal("apiKey")]),
  sessionExpiresAt: Type.Union([Type.Integer(), Type.Null()], {
    description: "Unix seconds; null for API keys, which do not expire",
  }),
  passwordExpiresAt: Type.Union([Type.Integer(), Type.Null()]),
});
export type MeResponse = Static<typeof MeResponse>;

export const OrgMembership = Type.Object({ id: Id, name: Type.String(), role: RoleName });
export type OrgMembership = Static<typeof OrgMembership>;
export const OrgMembershipList = Type.Array(OrgMembership);
export type OrgMembershipList = Static<typeof OrgMembershipList>;

export const Invitation = Type.Object({
  id: Id,
  org: Type.Object({ id: Id, name: Type.String() }),
  role: RoleName,
  invitedAt: Type.Integer({ description: "Unix seconds" }),
});
export type Invitation = Static<typeof Invitation>;
export const InvitationList = Type.Array(Invitation);
export type InvitationList = Static<typeof InvitationList>;
export const InvitationParams = Type.Object({ invitationId: IdParam });

export const ChangePasswordRequest = Type.Object(
  {
    email: Email,
    currentPassword: Password,
    newPassword: Password,
    selectedOrg: Type.Optional(Type.Union([Id, Type.Null()])),
  },
  { additionalProperties: false },
);
export type ChangePasswordRequest = Static<typeof ChangePasswordRequest>;

export const CreateApiKeyRequest = Type.Object(
  {
    orgUserId: Id,
    name: Type.String({ minLength: 1, maxLength: 100 }),
  },
  { additionalProperties: false },
);
export type CreateApiKeyRequest = Static<typeof CreateApiKeyRequest>;

export const CreateApiKeyResponse = Type.Object({
  id: Id,
  apiKey: Type.String({ description: "Shown once; send it as the x-api-key header" }),
  name: Type.String(),
  orgUserId: Id,
});
export type CreateApiKeyResponse = Static<typeof CreateApiKeyResponse>;

/** One of the caller's own live sessions (`GET /user/sessions`). */
export const OwnSession = Type.Object({
  id: Id,
  kind: Type.String({ description: "user (a person's sessions are user sessions)" }),
  orgId: Id,
  createdAt: Type.Integer({ description: "Unix seconds" }),
  expiresAt: Type.Integer({ description: "Unix seconds: end of the current window" }),
  current: Type.Boolean({ description: "Whether this is the session of the token that asks" }),
});
export type OwnSession = Static<typeof OwnSession>;
export const OwnSessionList = Type.Array(OwnSession);

export const OwnSessionParams = Type.Object({ id: IdParam });

export const RevokeOtherSessionsResponse = Type.Object({
  revoked: Type.Integer({ minimum: 0, description: "How many of the caller's other sessions were ended" }),
});
export type RevokeOtherSessionsResponse = Static<typeof RevokeOtherSessionsResponse>;
