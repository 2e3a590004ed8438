import { type KeyManagerTokenResponse, rolePermissions, type ServiceSessionTokenResponse } from "@tessera/protocol";
import { issueAuthorizationToken } from "../authorization-tokens/tokens.ts";
import type { AppContext } from "../context.ts";
import { openServiceSession, type ServiceAccount } from "../sessions/open-session.ts";

type Method = "certificate" | "key_pair";

/** Opens a service session and answers in Symphony's shape, with an authorization token beside it. */
export async function serviceSessionResponse(
  ctx: AppContext,
  account: ServiceAccount,
  audit: { ip: string; method: Method },
): Promise<ServiceSessionTokenResponse> {
  const session = await openServiceSession(ctx, account, "service", audit);
  const authorization = await issueAuthorizationToken(ctx, {
    userId: account.userId,
    orgId: account.orgId,
    sessionId: session.sessionId,
    permissions: rolePermissions[account.role],
    sessionExpiresAt: session.expiresAt,
  });
  return { name: "sessionToken", token: session.token, authorizationToken: authorization.token };
}

/** Opens a key-manager session and answers in Symphony's shape. */
export async function keyManagerSessionResponse(
  ctx: AppContext,
  account: ServiceAccount,
  audit: { ip: string; method: Method },
): Promise<KeyManagerTokenResponse> {
  const session = await openServiceSession(ctx, account, "keymanager", audit);
  return { name: "keyManagerToken", token: session.token };
}
