import { type LiveServiceSession, requireServiceSession } from "../access/service-session.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

type HeaderValue = string | string[] | undefined;

/**
 * The agent's caller (contract §3 "Datafeeds"): a live `sessionToken` and a live
 * `keyManagerToken` of the same user, both checked from current data. 401 otherwise.
 */
export async function requireAgentCaller(
  ctx: AppContext,
  headers: Record<string, HeaderValue>,
): Promise<LiveServiceSession> {
  const session = await requireServiceSession(ctx, headers.sessiontoken, "service");
  const keyManager = await requireServiceSession(ctx, headers.keymanagertoken, "keymanager");
  if (keyManager.userId !== session.userId || keyManager.orgId !== session.orgId) {
    throw new TesseraError("token_user_mismatch", "The sessionToken and keyManagerToken belong to different users");
  }
  return session;
}
