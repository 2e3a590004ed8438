import { type Permission, type Role, roleAllows, rolePermissions } from "@tessera/protocol";
import type { FastifyRequest } from "fastify";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { invalidToken, resolveToken } from "./resolve-token.ts";

/** Who is calling, as established from current data on this very request. */
export interface Principal {
  via: "session" | "apiKey";
  userId: number;
  email: string;
  displayName: string;
  kind: "person" | "service";
  /** Only through a user session: an API key acts with its membership's org role and never more. */
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

const bearerPattern = /^bearer[ \t]+([^\s]+)[ \t]*$/i;

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
  let principal: Principal | undefined;
  if (typeof authorization === "string" && authorization !== "") {
    const match = bearerPattern.exec(authorization);
    if (!match?.[1]) throw invalidToken("The Authorization header must be 'Bearer <token>'", true);
    principal = await resolvePrincipal(ctx, match[1], "userSession");
    if (!principal) throw invalidToken("The token is expired, revoked or unknown", true);
  } else if (typeof apiKey === "string" && apiKey !== "") {
    principal = await resolvePrincipal(ctx, apiKey, "apiKey");
    if (!principal) throw invalidToken("The API key is revoked or unknown", true);
  } else {
    throw invalidToken("No bearer token or x-api-key header was sent", false);
  }
  if (permission && !roleAllows(principal.role, permission)) {
    throw new TesseraError("forbidden", `The role "${principal.role}" does not grant ${permission}`);
  }
  return principal;
}

/** The principal a user-session token or API key stands for; undefined when it is not live. */
export async function resolvePrincipal(
  ctx: AppContext,
  token: string,
  kind: "userSession" | "apiKey",
): Promise<Principal | undefined> {
  const live = await resolveToken(ctx, token, kind);
  if (!live) return undefined;
  const account = {
    userId: live.userId,
    email: live.email,
    displayName: live.displayName,
    kind: live.userKind,
    isSystemAdmin: live.isSystemAdmin,
    orgId: live.orgId,
    orgName: live.orgName,
    membershipId: live.membershipId,
    role: live.role,
    permissions: rolePermissions[live.role],
    passwordChangedAt: live.passwordChangedAt,
    tokenHash: live.tokenHash,
  };
  if (live.kind === "apiKey") {
    return {
      ...account,
      // A key is made by an org admin for a membership; it must not lend the account's system-wide power.
      isSystemAdmin: false,
      via: "apiKey",
      sessionId: null,
      apiKeyId: live.apiKeyId,
      sessionExpiresAt: null,
      sessionAbsoluteExpiresAt: null,
      tokenIsCurrent: true,
    };
  }
  return {
    ...account,
    via: "session",
    sessionId: live.sessionId,
    apiKeyId: null,
    sessionExpiresAt: live.expiresAt,
    sessionAbsoluteExpiresAt: live.absoluteExpiresAt,
    tokenIsCurrent: live.isCurrent,
  };
}

/** The raw bearer token of a request that `authenticate` accepted. */
export function presentedBearerToken(request: FastifyRequest): string | undefined {
  return bearerPattern.exec(request.headers.authorization ?? "")?.[1];
}
