import type { FastifyRequest } from "fastify";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

const loopbackHosts = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Loopback hosts may use plain http (development, tests, and RFC 8252 native-app redirects). */
export function isLoopbackHost(hostname: string): boolean {
  return loopbackHosts.has(hostname.toLowerCase());
}

/** Parses an absolute https URL (http only on loopback) without fragment; undefined if it is not one. */
export function parseSecureUrl(value: string): URL | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.hash !== "" || url.username !== "" || url.password !== "") return undefined;
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return url;
  return undefined;
}

/**
 * Tessera's callback as registered at the provider: from TESSERA_PUBLIC_URL, else from the
 * request, but only for a loopback Host: any client chooses its Host header, and a redirect URI
 * built from someone else's would send the provider's code there.
 */
export function redirectUriFor(ctx: AppContext, request: FastifyRequest): string {
  if (ctx.config.publicUrl !== undefined) return `${ctx.config.publicUrl}/sso/callback`;
  let hostname: string | undefined;
  try {
    hostname = new URL(`http://${request.host}`).hostname;
  } catch {
    hostname = undefined;
  }
  if (hostname === undefined || !isLoopbackHost(hostname)) {
    throw new TesseraError(
      "sso_public_url_required",
      "Without TESSERA_PUBLIC_URL, single sign-on runs only on loopback hosts; set it to this server's public URL",
    );
  }
  return `${request.protocol}://${request.host}/sso/callback`;
}

/** The callback URL to show admins, when the public URL is known. */
export function configuredRedirectUri(ctx: AppContext): string | null {
  return ctx.config.publicUrl === undefined ? null : `${ctx.config.publicUrl}/sso/callback`;
}

/**
 * Whether the browser flow may hand over to `returnTo`: it must match an allow-listed URL in
 * scheme, host, port and path (its query may differ), or be an http loopback IP URL on any port,
 * where command-line tools listen (RFC 8252 §7.3). `localhost` is not a loopback IP here: a
 * hosts file or DNS may point it elsewhere.
 */
export function returnUrlAllowed(returnTo: string, allowed: readonly string[]): boolean {
  const url = parseSecureUrl(returnTo);
  if (!url) return false;
  if (url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "[::1]")) return true;
  return allowed.some((entry) => {
    const candidate = parseSecureUrl(entry);
    return candidate !== undefined && candidate.origin === url.origin && candidate.pathname === url.pathname;
  });
}
