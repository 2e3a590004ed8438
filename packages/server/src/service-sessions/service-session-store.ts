import { type Role, rolePermissions } from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { hashToken, looksLikeToken } from "../crypto/tokens.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { readSessionPolicy } from "../policies/policies.ts";
import { openSession } from "../sessions/open-session.ts";
import { reusableQuery } from "../storage/reusable-query.ts";

export type ServiceSessionKind = "service" | "keymanager";

/** The membership a service session is opened for. */
export interface ServiceAccount {
  userId: number;
  username: string;
  orgId: number;
  membershipId: number;
  role: Role;
}

/** A live service or key-manager session, resolved from current data. */
export interface LiveServiceSession extends ServiceAccount {
  sessionId: number;
  kind: ServiceSessionKind;
  email: string;
  displayName: string;
  permissions: readonly string[];
  /** Unix ms. */
  expiresAt: number;
  createdAt: number;
}

/** Every call with a sessionToken or keyManagerToken header runs this lookup: compiled once. */
const findServiceSessionByTokenHash = reusableQuery((db) =>
  db
    .selectFrom("session_tokens as t")
    .innerJoin("sessions as s", "s.id", "t.session_id")
    .innerJoin("users as u", "u.id", "s.user_id")
    .innerJoin("memberships as m", "m.id", "s.membership_id")
    .select([
      "s.id as session_id",
      "s.kind",
      "s.created_at",
      "s.expires_at",
      "s.revoked_at",
      "s.org_id",
      "u.id as user_id",
      "u.username",
      "u.email",
      "u.display_name",
      "u.active as user_active",
      "m.id as membership_id",
      "m.role",
      "m.active as membership_active",
    ])
    .where("t.token_hash", "=", ""),
);

const tokenKinds = { service: "serviceSession", keymanager: "keyManagerSession" } as const;

export interface OpenedServiceSession {
  token: string;
  sessionId: number;
  expiresAt: number;
}

/**
 * Opens a service or key-manager session for the org's service-session lifetime (1 h…2 weeks,
 * default 24 h). There is no renewal: the holder authenticates again after a 401.
 */
export async function openServiceSession(
  ctx: AppContext,
  account: ServiceAccount,
  kind: ServiceSessionKind,
  audit: { ip: string; method: "certificate" | "key_pair" },
): Promise<OpenedServiceSession> {
  const policy = await readSessionPolicy(ctx.storage, account.orgId);
  const now = ctx.clock.now();
  const expiresAt = now + policy.serviceSessionSeconds * 1000;
  const { token, sessionId } = await openSession(
    ctx,
    tokenKinds[kind],
    {
      kind,
      userId: account.userId,
      orgId: account.orgId,
      membershipId: account.membershipId,
      // No renewal: the first window is the whole session.
      expiresAt,
      absoluteExpiresAt: expiresAt,
      method: audit.method,
      ip: audit.ip,
    },
    now,
  );
  return { token, sessionId, expiresAt };
}

/**
 * Resolves a `sessionToken` / `keyManagerToken` value to its live session, checking from
 * current data that the session is neither expired nor revoked and that user and membership
 * are active. Undefined for anything else (malformed, unknown, dead).
 */
export async function findLiveServiceSession(
  ctx: AppContext,
  token: string,
  kind: ServiceSessionKind,
): Promise<LiveServiceSession | undefined> {
  if (!looksLikeToken(token, tokenKinds[kind])) return undefined;
  const tokenHash = hashToken(token);
  const row = await ctx.storage.cache.read(
    `service-token:${tokenHash}`,
    async () => (await findServiceSessionByTokenHash(ctx.db, [tokenHash]))[0],
    (found) => [
      `session_tokens:${tokenHash}`,
      `sessions:${found.session_id}`,
      `users:${found.user_id}`,
      `memberships:${found.membership_id}`,
    ],
  );
  const now = ctx.clock.now();
  if (
    row?.kind !== kind ||
    row.revoked_at !== null ||
    now >= row.expires_at ||
    row.user_active !== 1 ||
    row.membership_active !== 1
  ) {
    return undefined;
  }
  return {
    sessionId: row.session_id,
    kind,
    userId: row.user_id,
    username: row.username ?? row.email,
    email: row.email,
    displayName: row.display_name,
    orgId: row.org_id,
    membershipId: row.membership_id,
    role: row.role,
    permissions: rolePermissions[row.role],
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}

/** The live session named by a request header; 401 invalid_token when missing or dead. */
export async function requireServiceSession(
  ctx: AppContext,
  headerValue: string | string[] | undefined,
  kind: ServiceSessionKind,
): Promise<LiveServiceSession> {
  const header = kind === "service" ? "sessionToken" : "keyManagerToken";
  if (typeof headerValue !== "string" || headerValue === "") {
    throw new TesseraError("invalid_token", `No ${header} header was sent`);
  }
  const session = await findLiveServiceSession(ctx, headerValue, kind);
  if (!session) throw new TesseraError("invalid_token", `The ${header} is expired, revoked or unknown`);
  return session;
}
