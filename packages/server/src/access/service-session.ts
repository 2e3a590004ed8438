import { type Role, rolePermissions } from "@tessera/protocol";
import type { AppContext } from "../context.ts";
import { invalidToken, resolveToken } from "./resolve-token.ts";

export type ServiceSessionKind = "service" | "keymanager";

/** A live service or key-manager session, resolved from current data. */
export interface LiveServiceSession {
  sessionId: number;
  kind: ServiceSessionKind;
  userId: number;
  username: string;
  email: string;
  displayName: string;
  orgId: number;
  membershipId: number;
  role: Role;
  permissions: readonly string[];
  /** Unix ms. */
  expiresAt: number;
  createdAt: number;
}

const headers = {
  service: { name: "sessionToken", tokenKind: "serviceSession" },
  keymanager: { name: "keyManagerToken", tokenKind: "keyManagerSession" },
} as const;

/** The live session named by a `sessionToken` / `keyManagerToken` header; 401 invalid_token when missing or dead. */
export async function requireServiceSession(
  ctx: AppContext,
  headerValue: string | string[] | undefined,
  kind: ServiceSessionKind,
): Promise<LiveServiceSession> {
  const header = headers[kind];
  if (typeof headerValue !== "string" || headerValue === "") {
    throw invalidToken(`No ${header.name} header was sent`, false);
  }
  const live = await resolveToken(ctx, headerValue, header.tokenKind);
  if (live?.kind !== header.tokenKind) throw invalidToken(`The ${header.name} is expired, revoked or unknown`, true);
  return {
    sessionId: live.sessionId,
    kind,
    userId: live.userId,
    username: live.username ?? live.email,
    email: live.email,
    displayName: live.displayName,
    orgId: live.orgId,
    membershipId: live.membershipId,
    role: live.role,
    permissions: rolePermissions[live.role],
    expiresAt: live.expiresAt,
    createdAt: live.createdAt,
  };
}
