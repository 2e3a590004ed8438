import { type Role, type TokenKind, tokenPrefixes } from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { hashToken, looksLikeToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { RowTag } from "../storage/read-cache.ts";
import { reusableQuery } from "../storage/reusable-query.ts";
import type { SessionKind, UserKind } from "../storage/schema.ts";

/**
 * The one way from a presented token to the account it speaks for. Every caller (user and service
 * routes, the agent, introspection, forward-auth) goes through here, so a token is live by one rule,
 * read by one query per kind of row and cached under one list of row tags.
 */

/** The token kinds that stand for a session or an API key (not the single-use SSO handover code). */
export type BearerTokenKind = Exclude<TokenKind, "ssoHandover">;

const sessionKindOf = {
  userSession: "user",
  serviceSession: "service",
  keyManagerSession: "keymanager",
} as const satisfies Record<Exclude<BearerTokenKind, "apiKey">, SessionKind>;

/** The account and membership a live token acts for, read from current data. */
export interface TokenAccount {
  userId: number;
  email: string;
  displayName: string;
  userKind: UserKind;
  /** A service user's certificate CN; null for people. */
  username: string | null;
  isSystemAdmin: boolean;
  passwordChangedAt: number | null;
  orgId: number;
  orgName: string;
  membershipId: number;
  role: Role;
}

/** A live session, reached through one of its tokens or (for authorization tokens) by its id. */
export interface LiveSession extends TokenAccount {
  sessionId: number;
  sessionKind: SessionKind;
  createdAt: number;
  /** Unix ms: when this token stops working (its session's window, or the end of its renewal grace). */
  expiresAt: number;
  /** Unix ms: the cap no renewal passes. */
  absoluteExpiresAt: number;
}

export type LiveToken =
  | (LiveSession & {
      kind: Exclude<BearerTokenKind, "apiKey">;
      tokenHash: string;
      /** False while the token is in the grace window of a renewal that already replaced it. */
      isCurrent: boolean;
    })
  | (TokenAccount & { kind: "apiKey"; tokenHash: string; apiKeyId: number });

const accountColumns = [
  "u.id as user_id",
  "u.email",
  "u.display_name",
  "u.kind as user_kind",
  "u.username",
  "u.is_system_admin",
  "u.active as user_active",
  "u.password_changed_at",
  "m.id as membership_id",
  "m.role",
  "m.active as membership_active",
  "o.id as org_id",
  "o.name as org_name",
] as const;

const sessionColumns = [
  "s.id as session_id",
  "s.kind",
  "s.created_at",
  "s.expires_at",
  "s.absolute_expires_at",
  "s.revoked_at",
] as const;

/** The hot-path reads, each compiled once (see reusableQuery). */
const findSessionByTokenHash = reusableQuery((db) =>
  db
    .selectFrom("session_tokens as t")
    .innerJoin("sessions as s", "s.id", "t.session_id")
    .innerJoin("users as u", "u.id", "s.user_id")
    .innerJoin("memberships as m", "m.id", "s.membership_id")
    .innerJoin("orgs as o", "o.id", "s.org_id")
    .select(["t.grace_ends_at", ...sessionColumns, ...accountColumns])
    .where("t.token_hash", "=", ""),
);

const findSessionById = reusableQuery((db) =>
  db
    .selectFrom("sessions as s")
    .innerJoin("users as u", "u.id", "s.user_id")
    .innerJoin("memberships as m", "m.id", "s.membership_id")
    .innerJoin("orgs as o", "o.id", "s.org_id")
    .select([...sessionColumns, ...accountColumns])
    .where("s.id", "=", 0),
);

const findApiKeyByHash = reusableQuery((db) =>
  db
    .selectFrom("api_keys as k")
    .innerJoin("users as u", "u.id", "k.user_id")
    .innerJoin("memberships as m", "m.id", "k.membership_id")
    .innerJoin("orgs as o", "o.id", "k.org_id")
    .select(["k.id as key_id", "k.revoked_at", "k.last_used_at", ...accountColumns])
    .where("k.key_hash", "=", ""),
);

type AccountRow = Awaited<ReturnType<typeof findApiKeyByHash>>[number];
type SessionRow = Awaited<ReturnType<typeof findSessionById>>[number];

/** The rows an answer was read from: a change to any of them drops the cached answer. */
function accountTags(row: AccountRow | SessionRow): RowTag[] {
  return [`users:${row.user_id}`, `memberships:${row.membership_id}`, `orgs:${row.org_id}`];
}

function toAccount(row: AccountRow | SessionRow): TokenAccount {
  return {
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    userKind: row.user_kind,
    username: row.username,
    isSystemAdmin: row.is_system_admin === 1,
    passwordChangedAt: row.password_changed_at,
    orgId: row.org_id,
    orgName: row.org_name,
    membershipId: row.membership_id,
    role: row.role,
  };
}

/**
 * The one liveness rule: the session is neither revoked nor past its window or cap, the token is
 * not past its renewal grace, and user and membership are active.
 */
function isLive(row: SessionRow, graceEndsAt: number | null, now: number): boolean {
  return (
    row.revoked_at === null &&
    now < row.expires_at &&
    now < row.absolute_expires_at &&
    (graceEndsAt === null || now < graceEndsAt) &&
    row.user_active === 1 &&
    row.membership_active === 1
  );
}

function toLiveSession(row: SessionRow, graceEndsAt: number | null): LiveSession {
  return {
    ...toAccount(row),
    sessionId: row.session_id,
    sessionKind: row.kind,
    createdAt: row.created_at,
    expiresAt: Math.min(row.expires_at, graceEndsAt ?? Number.POSITIVE_INFINITY),
    absoluteExpiresAt: row.absolute_expires_at,
  };
}

/** The kind a token's prefix names, or undefined when it has no prefix of ours. */
export function tokenKindOf(token: string): BearerTokenKind | undefined {
  for (const [kind, prefix] of Object.entries(tokenPrefixes) as [TokenKind, string][]) {
    if (kind !== "ssoHandover" && token.startsWith(prefix)) return kind;
  }
  return undefined;
}

/** How stale an API key's `last_used_at` may grow before a use writes it again: keeps writes off most calls. */
const lastUsedResolutionMs = 60_000;

/**
 * The live token `token` is, from current data; undefined when it is malformed, unknown, of
 * another kind than `expected`, expired, revoked, or its user or membership is inactive.
 */
export async function resolveToken(
  ctx: AppContext,
  token: string,
  expected?: BearerTokenKind,
): Promise<LiveToken | undefined> {
  const kind = tokenKindOf(token);
  if (kind === undefined || (expected !== undefined && kind !== expected) || !looksLikeToken(token, kind)) {
    return undefined;
  }
  const tokenHash = hashToken(token);
  const now = ctx.clock.now();
  if (kind === "apiKey") {
    const row = await ctx.storage.cache.read(
      `api-key:${tokenHash}`,
      async () => (await findApiKeyByHash(ctx.db, [tokenHash]))[0],
      (found) => [`api_keys:${found.key_id}`, ...accountTags(found)],
    );
    if (!row || row.revoked_at !== null || row.user_active !== 1 || row.membership_active !== 1) return undefined;
    if (row.last_used_at === null || now - row.last_used_at > lastUsedResolutionMs) {
      await ctx.db.updateTable("api_keys").set({ last_used_at: now }).where("id", "=", row.key_id).execute();
    }
    return { kind, tokenHash, apiKeyId: row.key_id, ...toAccount(row) };
  }
  const row = await ctx.storage.cache.read(
    `session-token:${tokenHash}`,
    async () => (await findSessionByTokenHash(ctx.db, [tokenHash]))[0],
    (found) => [`session_tokens:${tokenHash}`, `sessions:${found.session_id}`, ...accountTags(found)],
  );
  if (!row || row.kind !== sessionKindOf[kind] || !isLive(row, row.grace_ends_at, now)) return undefined;
  return { kind, tokenHash, isCurrent: row.grace_ends_at === null, ...toLiveSession(row, row.grace_ends_at) };
}

/** A live session by its id (what an authorization token names in `sid`), by the same rule. */
export async function resolveSession(ctx: AppContext, sessionId: number): Promise<LiveSession | undefined> {
  const row = await ctx.storage.cache.read(
    `session:${sessionId}`,
    async () => (await findSessionById(ctx.db, [sessionId]))[0],
    (found) => [`sessions:${found.session_id}`, ...accountTags(found)],
  );
  if (!row || !isLive(row, null, ctx.clock.now())) return undefined;
  return toLiveSession(row, null);
}

/**
 * The 401 for a missing or dead token. RFC 6750: the challenge carries `error="invalid_token"`
 * only when a token was presented.
 */
export function invalidToken(detail: string, presented: boolean): TesseraError {
  const challenge = presented ? 'Bearer realm="tessera", error="invalid_token"' : 'Bearer realm="tessera"';
  return new TesseraError("invalid_token", detail, { headers: { "www-authenticate": challenge } });
}
