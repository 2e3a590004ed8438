import { type Static, Type } from "@sinclair/typebox";
import { Id } from "./common.ts";

/** `POST /sessionauth/v1/authenticate` (Symphony's shape). */
export const ServiceSessionTokenResponse = Type.Object({
  name: Type.Literal("sessionToken", { description: "The header that carries the token" }),
  token: Type.String({ description: "Opaque session token (tss_…)" }),
  authorizationToken: Type.String({ description: "Short-lived JWT for resource servers (at most 5 minutes)" }),
});
export type ServiceSessionTokenResponse = Static<typeof ServiceSessionTokenResponse>;

/** `POST /keyauth/v1/authenticate`. */
export const KeyManagerTokenResponse = Type.Object({
  name: Type.Literal("keyManagerToken"),
  token: Type.String({ description: "Opaque key-manager token (tsm_…)" }),
});
export type KeyManagerTokenResponse = Static<typeof KeyManagerTokenResponse>;

/** Key-pair login answers as the certificate login of the same listener kind does. */
export const KeyPairLoginResponse = Type.Object({
  name: Type.Union([Type.Literal("sessionToken"), Type.Literal("keyManagerToken")]),
  token: Type.String(),
  authorizationToken: Type.Optional(Type.String()),
});

export const KeyPairLoginRequest = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 8192, description: "JWT signed RS512 by a registered key" }) },
  { additionalProperties: true },
);
export type KeyPairLoginRequest = Static<typeof KeyPairLoginRequest>;

export const MessageResponse = Type.Object({ message: Type.String() });

/** Symphony's UserV2 (the fields its clients read). */
export const SessionInfoResponse = Type.Object({
  id: Id,
  username: Type.String(),
  emailAddress: Type.String(),
  displayName: Type.String(),
  accountType: Type.Union([Type.Literal("SYSTEM"), Type.Literal("NORMAL")]),
  roles: Type.Array(Type.String()),
  company: Type.Optional(Type.String()),
});
export type SessionInfoResponse = Static<typeof SessionInfoResponse>;

export const IdmTokenQuery = Type.Object(
  { scope: Type.Optional(Type.String({ maxLength: 2000, description: "Space-separated permissions to narrow to" })) },
  { additionalProperties: true },
);

export const IdmTokenResponse = Type.Object({
  token_type: Type.Literal("Bearer"),
  expires_in: Type.Integer({ description: "Seconds" }),
  access_token: Type.String(),
});
export type IdmTokenResponse = Static<typeof IdmTokenResponse>;

export const Jwks = Type.Object({
  keys: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});

export const TrustedCa = Type.Object({
  id: Id,
  subject: Type.String(),
  fingerprint: Type.String({ description: "SHA-256 of the DER, colon-separated hex" }),
  notAfter: Type.String({ format: "date-time" }),
});
export type TrustedCa = Static<typeof TrustedCa>;

export const CreateTrustedCaRequest = Type.Object(
  { pem: Type.String({ minLength: 1, maxLength: 65536, description: "One PEM CA certificate" }) },
  { additionalProperties: false },
);

export const Application = Type.Object({
  id: Id,
  name: Type.String(),
  enabled: Type.Boolean(),
  markedForDeletion: Type.Boolean(),
  hasManifestCertificate: Type.Boolean(),
  createdAt: Type.Integer({ description: "Unix seconds" }),
});
export type Application = Static<typeof Application>;

export const CreateApplicationRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    manifestCertificatePem: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 65536 }), Type.Null()])),
    enabled: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type CreateApplicationRequest = Static<typeof CreateApplicationRequest>;

export const UpdateApplicationRequest = Type.Object(
  { enabled: Type.Optional(Type.Boolean()), markedForDeletion: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateApplicationRequest = Static<typeof UpdateApplicationRequest>;

export const RsaPublicKey = Type.Object({
  id: Id,
  userId: Id,
  fingerprint: Type.String({ description: "SHA-256 of the SubjectPublicKeyInfo DER, base64url" }),
  bits: Type.Integer(),
  createdAt: Type.Integer({ description: "Unix seconds" }),
});
export type RsaPublicKey = Static<typeof RsaPublicKey>;

export const CreateRsaKeyRequest = Type.Object(
  { publicKeyPem: Type.String({ minLength: 1, maxLength: 16384 }) },
  { additionalProperties: false },
);

export const SigningKeyRotation = Type.Object({
  kid: Type.String({ description: "The new signing key" }),
  retired: Type.Array(Type.String(), { description: "Keys retired now; published until their tokens expire" }),
});

/** RFC 7662 introspection answer. */
export const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    token_type: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    username: Type.Optional(Type.String()),
    org: Type.Optional(Type.Integer()),
    sid: Type.Optional(Type.Integer()),
    role: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
    iat: Type.Optional(Type.Integer()),
    exp: Type.Optional(Type.Integer()),
    iss: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type IntrospectionResponse = Static<typeof IntrospectionResponse>;

export const IntrospectionRequest = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 8192 }),
    token_type_hint: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: true },
);

/** Symphony's error body, used on its prefixes (/sessionauth, /keyauth, /login, /pod, /agent, /relay). */
export const SymphonyErrorBody = Type.Object(
  {
    code: Type.Integer({ description: "The HTTP status" }),
    message: Type.String(),
    reason: Type.String({ description: "Stable machine-readable error code" }),
  },
  { additionalProperties: true },
);
