import { type Dispatcher, fetch, type RequestInit, type Response } from "undici";
import { errorFromResponse, networkError } from "./errors.ts";

/**
 * One JSON call to Tessera: sends `Content-Type: application/json` (as the clients of the APIs Tessera reproduces'
 * clients do, also without a body), maps any failure to a typed error and parses the answer.
 * Internal: sessions build on it; callers use `session.fetch`.
 */
export async function callJson<T>(
  url: string,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: unknown;
    dispatcher?: Dispatcher | undefined;
    signal?: AbortSignal | undefined;
    during?: "authenticate" | "call";
    /** False for Symphony's certificate endpoints, whose strict mode wants no Content-Type at all. */
    contentType?: boolean;
  },
): Promise<T | undefined> {
  const contentType: Record<string, string> =
    options.contentType === false ? {} : { "content-type": "application/json" };
  const response = await send(url, {
    method: options.method,
    headers: { accept: "application/json", ...contentType, ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    dispatcher: options.dispatcher,
    signal: options.signal,
  });
  if (!response.ok) throw await errorFromResponse(response, options.during ?? "call");
  const text = await response.text();
  return text === "" ? undefined : (JSON.parse(text) as T);
}

/** `fetch` that turns a failure to connect into a typed `network_error`, and lets aborts through. */
export async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    if (init.signal?.aborted) throw init.signal.reason;
    throw networkError(error);
  }
}

/** Resolves `path` against `baseUrl`, keeping any path prefix of the base ("/user/orgs" or a full URL). */
export function resolveUrl(baseUrl: string, path: string | URL): string {
  const text = String(path);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) return text;
  return baseUrl.replace(/\/+$/, "") + (text.startsWith("/") ? text : `/${text}`);
}
