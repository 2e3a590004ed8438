import { type Permission, type Role, roleAllows, rolePermissions } from "@tessera/protocol";
import type { FastifyRequest } from "fastify";
import type { AppContext } from "../context.ts";
import { hashToken, looksLikeToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { reusableQuery } from "../storage/reusable-query.ts";

/** Who is calling, as established from current data on this very request. */
export interface Principal {
  via: "session" | "apiKey";
  userId: number;
  email: string;
  displayName: string;
  kind: "person" | "service";
  isSystemAdmin: boolean;
  orgId: number;
  orgName: string;
  membershipId: number;
  role: Role;
  permissions: readonly string[];
  sessionId: number | null;
  apiKeyId: number | null;
  /** Unix ms; null for API keys. */
  sessionExpiresAt: number | null;
  /** Unix ms: the cap no renewal passes; null for API keys. */
  sessionAbsoluteExpiresAt: number | null;
  passwordChangedAt: number | null;
  /** Hash of the presented session token, and whether it is the current one (not in renewal grace). */
  tokenHash: string;
  tokenIsCurrent: boolean;
}

/** Every request that carries a token runs one of these two lookups: compiled once (see reusableQuery). */
const findSessionByTokenHash = reusableQuery((db) =>
  db
    .selectFrom("session_tokens as t")
    .innerJoin("sessions as s", "s.id", "t.session_id")
    .innerJoin("users as u", "u.id", "s.user_id")
    .innerJoin("memberships as m", "m.id", "s.membership_id")
    .innerJoin("orgs as o", "o.id", "s.org_id")
    .select([
      "t.grace_ends_at",
      "s.id as session_id",
      "s.kind",
      "s.expires_at",
      "s.absolute_expires_at",
      "s.revoked_at",
      "u.id as user_id",
      "u.email",
      "u.display_name",
      "u.kind as user_kind",
      "u.is_system_admin",
      "u.active as user_active",
      "u.password_changed_at",
      "m.id as membership_id",
      "m.role",
      "m.active as membership_active",
      "o.id as org_id",
      "o.name as org_name",
    ])
    .where("t.token_hash", "=", ""),
);

const findApiKeyByHash = reusableQuery((db) =>
  db
    .selectFrom("api_keys as k")
    .innerJoin("users as u", "u.id", "k.user_id")
    .innerJoin("memberships as m", "m.id", "k.membership_id")
    .innerJoin("orgs as o", "o.id", "k.org_id")
    .select([
      "k.id as key_id",
      "k.revoked_at",
      "k.last_used_at",
      "u.id as user_id",
      "u.email",
      "u.display_name",
      "u.kind as user_kind",
      "u.is_system_admin",
      "u.active as user_active",
      "u.password_changed_at",
      "m.id as membership_id",
      "m.role",
      "m.active as membership_active",
      "o.id as org_id",
      "o.name as org_name",
    ])
    .where("k.key_hash", "=", ""),
);

const bearerPattern = /^bearer[ \t]+([^\s]+)[ \t]*$/i;

function invalidToken(detail: string, presented: boolean): TesseraError {
  const challenge = presented ? 'Bearer realm="tessera", error="invalid_token"' : 'Bearer realm="tessera"';
  return new TesseraError("invalid_token", detail, { headers: { "www-authenticate": challenge } });
}

/**
 * Resolves the caller from `Authorization: Bearer <session token>` or `x-api-key`, and checks,
 * from current data, that user, membership and role allow `permission`. A revocation, demotion
 * or deactivation is therefore felt on the next request. Throws 401 or 403.
 */
export async function authenticate(
  ctx: AppContext,
  request: FastifyRequest,
  permission?: Permission,
): Promise<Principal> {
  const authorization = request.headers.authorization;
  const apiKey = request.headers["x-api-key"];
  let principal: Principal;
  if (typeof authorization === "string" && authorization !== "") {
    const match = bearerPattern.exec(authorization);
    if (!match?.[1]) throw invalidToken("The Authorization header must be 'Bearer <token>'", true);
    principal = await resolveSessionToken(ctx, match[1]);
  } else if (typeof apiKey === "string" && apiKey !== "") {
    principal = await resolveApiKey(ctx, apiKey);
  } else {
    throw invalidToken("No bearer token or x-api-key header was sent", false);
  }
  if (permission && !roleAllows(principal.role, permission)) {
    throw new TesseraError("forbidden", `The role "${principal.role}" does not grant ${permission}`);
  }
  return principal;
}

export async function resolveSessionToken(ctx: AppContext, token: string): Promise<Principal> {
  if (!looksLikeToken(token, "userSession")) throw invalidToken("The token is not valid", true);
  const tokenHash = hashToken(token);
  const row = await ctx.storage.cache.read(
    `session-token:${tokenHash}`,
    async () => (await findSessionByTokenHash(ctx.db, [tokenHash]))[0],
    (found) => [
      `session_tokens:${tokenHash}`,
      `sessions:${found.session_id}`,
      `users:${found.user_id}`,
      `memberships:${found.membership_id}`,
      `orgs:${found.org_id}`,
    ],
  );
  const now = ctx.clock.now();
  if (
    row?.kind !== "user" ||
    row.revoked_at !== null ||
    now >= row.expires_at ||
    now >= row.absolute_expires_at ||
    (row.grace_ends_at !== null && now >= row.grace_ends_at) ||
    row.user_active !== 1 ||
    row.membership_active !== 1
  ) {
    throw invalidToken("The token is expired, revoked or unknown", true);
  }
  return {
    via: "session",
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    kind: row.user_kind,
    isSystemAdmin: row.is_system_admin === 1,
    orgId: row.org_id,
    orgName: row.org_name,
    membershipId: row.membership_id,
    role: row.role,
    permissions: rolePermissions[row.role],
    sessionId: row.session_id,
    apiKeyId: null,
    sessionExpiresAt: Math.min(row.expires_at, row.grace_ends_at ?? Number.POSITIVE_INFINITY),
    sessionAbsoluteExpiresAt: row.absolute_expires_at,
    passwordChangedAt: row.password_changed_at,
    tokenHash,
    tokenIsCurrent: row.grace_ends_at === null,
  };
}

/** How stale `last_used_at` may grow before a use writes it again: keeps writes off most calls. */
const lastUsedResolutionMs = 60_000;

export async function resolveApiKey(ctx: AppContext, key: string): Promise<Principal> {
  if (!looksLikeToken(key, "apiKey")) throw invalidToken("The API key is not valid", true);
  const keyHash = hashToken(key);
  const row = await ctx.storage.cache.read(
    `api-key:${keyHash}`,
    async () => (await findApiKeyByHash(ctx.db, [keyHash]))[0],
    (found) => [
      `api_keys:${found.key_id}`,
      `users:${found.user_id}`,
      `memberships:${found.membership_id}`,
      `orgs:${found.org_id}`,
    ],
  );
  if (!row || row.revoked_at !== null || row.user_active !== 1 || row.membership_active !== 1) {
    throw invalidToken("The API key is revoked or unknown", true);
  }
  const now = ctx.clock.now();
  if (row.last_used_at === null || now - row.last_used_at > lastUsedResolutionMs) {
    await ctx.db.updateTable("api_keys").set({ last_used_at: now }).where("id", "=", row.key_id).execute();
  }
  return {
    via: "apiKey",
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    kind: row.user_kind,
    isSystemAdmin: row.is_system_admin === 1,
    orgId: row.org_id,
    orgName: row.org_name,
    membershipId: row.membership_id,
    role: row.role,
    permissions: rolePermissions[row.role],
    sessionId: null,
    apiKeyId: row.key_id,
    sessionExpiresAt: null,
    sessionAbsoluteExpiresAt: null,
    passwordChangedAt: row.password_changed_at,
    tokenHash: keyHash,
    tokenIsCurrent: true,
  };
}

/** Admin routes are org-scoped: the caller's token must belong to the org in the path. */
export async function authenticateInOrg(
  ctx: AppContext,
  request: FastifyRequest,
  orgId: number,
  permission: Permission,
): Promise<Principal> {
  const principal = await authenticate(ctx, request, permission);
  if (principal.orgId !== orgId) {
    throw new TesseraError("forbidden", "The token belongs to another organisation");
  }
  return principal;
}

/** The raw bearer token of a request that `authenticate` accepted. */
export function presentedBearerToken(request: FastifyRequest): string | undefined {
  return bearerPattern.exec(request.headers.authorization ?? "")?.[1];
}
