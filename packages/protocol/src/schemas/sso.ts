import { type Static, Type } from "@sinclair/typebox";
import { Id } from "./common.ts";

/** Roles that just-in-time provisioning may grant: never owner, never a service user. */
export const SsoDefaultRole = Type.Union([Type.Literal("member"), Type.Literal("auditor"), Type.Literal("admin")], {
  description: "Role given to users created or added by just-in-time provisioning",
});

const Issuer = Type.String({
  minLength: 8,
  maxLength: 2000,
  description: "OpenID Connect issuer; its discovery document is <issuer>/.well-known/openid-configuration",
});
const EmailDomain = Type.String({ minLength: 1, maxLength: 253, pattern: "^[A-Za-z0-9.-]+$" });
const ReturnUrl = Type.String({ minLength: 8, maxLength: 2000, description: "Absolute http(s) URL" });

const ssoSettings = {
  issuer: Issuer,
  clientId: Type.String({ minLength: 1, maxLength: 500 }),
  scopes: Type.Array(Type.String({ minLength: 1, maxLength: 200, pattern: "^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$" }), {
    minItems: 1,
    maxItems: 50,
    description: 'Requested scopes; must include "openid" (default ["openid", "email", "profile"])',
  }),
  jitProvisioning: Type.Boolean({ description: "Create unknown users (or add existing ones) on first sign-on" }),
  defaultRole: SsoDefaultRole,
  allowedEmailDomains: Type.Array(EmailDomain, {
    maxItems: 200,
    description: "Email domains that may sign on (exact match); empty allows every domain",
  }),
  allowedReturnUrls: Type.Array(ReturnUrl, {
    maxItems: 50,
    description:
      "Where the browser flow may hand over (scheme, host, port and path must match); loopback http://127.0.0.1:<port>/ and http://[::1]:<port>/ URLs are always allowed for command-line tools",
  }),
  requireEmailVerified: Type.Boolean({
    description:
      "true: the ID token (or userinfo) must say email_verified: true. false: an email without email_verified is trusted (Entra ID sends none); email_verified: false is still refused",
  }),
  enabled: Type.Boolean(),
};

/** `PUT /admin/orgs/{orgId}/sso`. The client secret may be omitted to keep the stored one. */
export const PutSsoConfigRequest = Type.Object(
  {
    issuer: ssoSettings.issuer,
    clientId: ssoSettings.clientId,
    clientSecret: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2000,
        description: "Write-only; required the first time, omitted to keep the stored secret",
      }),
    ),
    scopes: Type.Optional(ssoSettings.scopes),
    jitProvisioning: Type.Optional(ssoSettings.jitProvisioning),
    defaultRole: Type.Optional(ssoSettings.defaultRole),
    allowedEmailDomains: Type.Optional(ssoSettings.allowedEmailDomains),
    allowedReturnUrls: Type.Optional(ssoSettings.allowedReturnUrls),
    requireEmailVerified: Type.Optional(ssoSettings.requireEmailVerified),
    enabled: Type.Optional(ssoSettings.enabled),
  },
  { additionalProperties: false },
);
export type PutSsoConfigRequest = Static<typeof PutSsoConfigRequest>;

/** What the admin API shows: every setting except the secret, which is only said to be set. */
export const SsoConfig = Type.Object({
  orgId: Id,
  ...ssoSettings,
  clientSecretSet: Type.Boolean({ description: "The secret itself is never returned" }),
  redirectUri: Type.Union([Type.String(), Type.Null()], {
    description: "The redirect URI to register at the identity provider (null until TESSERA_PUBLIC_URL is set)",
  }),
  updatedAt: Type.Integer({ description: "Unix seconds" }),
});
export type SsoConfig = Static<typeof SsoConfig>;

export const SsoLoginQuery = Type.Object(
  {
    returnTo: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    loginHint: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: "Passed to the provider as login_hint" }),
    ),
    handoverChallenge: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9_-]{43}$",
        description:
          "BASE64URL(SHA-256(verifier)) of a random verifier the client keeps: POST /sso/token then needs that verifier, so a handover code is good only for the client that started the sign-on",
      }),
    ),
  },
  { additionalProperties: false },
);
export type SsoLoginQuery = Static<typeof SsoLoginQuery>;

/** What the identity provider sends back to `GET /sso/callback`. */
export const SsoCallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    error: Type.Optional(Type.String({ maxLength: 200 })),
    error_description: Type.Optional(Type.String({ maxLength: 2000 })),
    iss: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: true },
);
export type SsoCallbackQuery = Static<typeof SsoCallbackQuery>;

/** `POST /sso/token`: the handover code that the callback put on the return URL. */
export const SsoTokenRequest = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 200 }),
    handoverVerifier: Type.Optional(
      Type.String({
        minLength: 43,
        maxLength: 128,
        pattern: "^[A-Za-z0-9._~-]+$",
        description: "The verifier whose challenge the sign-on was started with (required then)",
      }),
    ),
  },
  { additionalProperties: false },
);
export type SsoTokenRequest = Static<typeof SsoTokenRequest>;
