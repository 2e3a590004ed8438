import { type BodyInit, type Dispatcher, Headers, type RequestInit, type Response } from "undici";
import { resolveUrl, send } from "./http.ts";

/**
 * What a session offers {@link tesseraFetch}: the credential headers it currently holds, and a
 * way to recover after a 401. Implemented by `UserSession` and `ServiceSession`.
 *
 * @example
 * ```ts
 * const response = await tesseraFetch(session, "/user/users/me");
 * ```
 */
export interface FetchAuthenticator {
  /** The base URL relative paths are resolved against. */
  readonly baseUrl: string;
  /** The dispatcher (connection pool, TLS options) calls go through, if not the default one. */
  readonly dispatcher: Dispatcher | undefined;
  /** The headers for the credential held now, and an opaque marker of that credential. */
  credentialHeaders(): { headers: Record<string, string>; generation: number };
  /**
   * Called after a 401 answered a call made with credential `generation`. Resolves true when a
   * newer credential is now held (obtained by this call or by a concurrent one), false when none can be.
   */
  recoverFromUnauthorized(generation: number): Promise<boolean>;
}

function isReplayable(body: BodyInit | null | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === "string" ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body)
  );
}

/**
 * `fetch` for calls to any API behind Tessera: adds the session's headers
 * (`Authorization: Bearer` for a user session, `x-api-key` for an API key, `sessionToken` and
 * `keyManagerToken` for a service session) and applies the 401 rule: after a 401 the session
 * re-authenticates ONCE (one login shared by every concurrent call that met the same 401) and
 * the call is sent again once. A second 401 is returned to the caller. Other statuses are
 * returned as they are; a failure to connect rejects with `ServerUnavailable` (`network_error`).
 * Bodies that cannot be sent twice (streams) are not replayed: their 401 is returned.
 *
 * @example
 * ```ts
 * const response = await tesseraFetch(session, "/user/users/me");
 * const me = await response.json();
 * ```
 */
export async function tesseraFetch(
  authenticator: FetchAuthenticator,
  input: string | URL,
  init: RequestInit = {},
): Promise<Response> {
  const url = resolveUrl(authenticator.baseUrl, input);
  const attempt = async (): Promise<{ response: Response; generation: number }> => {
    const { headers: credential, generation } = authenticator.credentialHeaders();
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(credential)) headers.set(name, value);
    const response = await send(url, {
      ...init,
      headers,
      ...(authenticator.dispatcher && !init.dispatcher ? { dispatcher: authenticator.dispatcher } : {}),
    });
    return { response, generation };
  };
  const first = await attempt();
  if (first.response.status !== 401 || !isReplayable(init.body)) return first.response;
  if (!(await authenticator.recoverFromUnauthorized(first.generation))) return first.response;
  // The first answer is dropped for the retry; discard its body so the connection is reused.
  await first.response.body?.cancel().catch(() => {});
  return (await attempt()).response;
}
