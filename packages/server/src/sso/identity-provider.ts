import { performance } from "node:perf_hooks";
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import type { AppContext } from "../context.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { SsoSettings } from "./sso-config.ts";
import { SsoRefusal } from "./sso-error.ts";
import { parseSecureUrl } from "./urls.ts";

/** The parts of a provider's discovery document Tessera uses (OpenID Connect Discovery 1.0). */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  id_token_signing_alg_values_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
}

const requestTimeoutMs = 5_000;
const discoveryCacheMs = 10 * 60_000;
/** ID tokens must be signed with a public-key algorithm: a shared-secret MAC would let the client forge them. */
const asymmetricAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];

const discoveryCache = new Map<string, { metadata: ProviderMetadata; fetchedAt: number }>();
const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function idpError(reason: string, detail: string): SsoRefusal {
  return new SsoRefusal("sso_idp_error", reason, detail);
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

async function fetchJson(url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: "error", signal: AbortSignal.timeout(requestTimeoutMs) });
  } catch {
    throw idpError("unreachable", `The identity provider's ${what} could not be reached`);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw idpError(
      "malformed_response",
      `The identity provider's ${what} did not answer JSON (HTTP ${response.status})`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Fetches (and caches for a few minutes) the issuer's discovery document, checking that it names that issuer. */
export async function discoverProvider(issuer: string): Promise<ProviderMetadata> {
  const cached = discoveryCache.get(issuer);
  if (cached && performance.now() - cached.fetchedAt < discoveryCacheMs) return cached.metadata;
  const { status, body } = await fetchJson(`${issuer}/.well-known/openid-configuration`, {}, "discovery document");
  if (status !== 200 || !isRecord(body)) throw idpError("discovery_failed", `Discovery answered HTTP ${status}`);
  const endpoints = ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const;
  for (const name of endpoints) {
    if (typeof body[name] !== "string" || !parseSecureUrl(body[name])) {
      throw idpError("discovery_failed", `The discovery document has no usable ${name}`);
    }
  }
  // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
  if (typeof body.issuer !== "string" || withoutTrailingSlash(body.issuer) !== withoutTrailingSlash(issuer)) {
    throw idpError("issuer_mismatch", "The discovery document names another issuer");
  }
  const metadata = body as unknown as ProviderMetadata;
  discoveryCache.set(issuer, { metadata, fetchedAt: performance.now() });
  return metadata;
}

export interface TokenSet {
  idToken: string;
  accessToken: string | undefined;
}

/** Exchanges the authorization code (with its PKCE verifier) at the token endpoint. */
export async function redeemAuthorizationCode(
  metadata: ProviderMetadata,
  settings: SsoSettings,
  grant: { code: string; redirectUri: string; codeVerifier: string },
): Promise<TokenSet> {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: grant.code,
    redirect_uri: grant.redirectUri,
    code_verifier: grant.codeVerifier,
  });
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };
  const methods = metadata.token_endpoint_auth_methods_supported ?? ["client_secret_basic"];
  if (methods.includes("client_secret_basic") || !methods.includes("client_secret_post")) {
    // RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
    const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
    const credentials = `${encode(settings.clientId)}:${encode(settings.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  } else {
    form.set("client_id", settings.clientId);
    form.set("client_secret", settings.clientSecret);
  }
  const { status, body } = await fetchJson(
    metadata.token_endpoint,
    { method: "POST", headers, body: form },
    "token endpoint",
  );
  if (status === 400 && isRecord(body) && body.error === "invalid_grant") {
    throw new SsoRefusal("sso_code_invalid", "invalid_grant", "The provider refused the authorization code");
  }
  if (status !== 200 || !isRecord(body)) {
    const error = isRecord(body) && typeof body.error === "string" ? body.error : `HTTP ${status}`;
    throw idpError("token_endpoint_failed", `The token endpoint refused the exchange (${error})`);
  }
  if (typeof body.id_token !== "string") throw idpError("no_id_token", "The token endpoint returned no ID token");
  return { idToken: body.id_token, accessToken: typeof body.access_token === "string" ? body.access_token : undefined };
}

function jwksFor(jwksUri: string): ReturnType<typeof createRemoteJWKSet> {
  let jwks = jwksCache.get(jwksUri);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: requestTimeoutMs, cacheMaxAge: discoveryCacheMs });
    jwksCache.set(jwksUri, jwks);
  }
  return jwks;
}

function invalidIdToken(reason: string, detail: string): SsoRefusal {
  return new SsoRefusal("sso_id_token_invalid", reason, detail);
}

/** Why jose refused a token, as an audit reason; undefined when the provider (not the token) failed. */
function refusalReason(error: unknown): string | undefined {
  if (error instanceof joseErrors.JWTExpired) return "expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return "wrong_issuer";
    if (error.claim === "aud") return "wrong_audience";
    return `claim_${error.claim}`;
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "bad_signature";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "unknown_key";
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "algorithm_not_allowed";
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return "malformed";
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys) return "ambiguous_key";
  return undefined;
}

/**
 * Verifies the ID token (OpenID Connect Core §3.1.3.7): signature against the provider's JWKS,
 * `iss`, `aud` (and `azp` when there are several audiences), `exp`, `iat`, and the attempt's nonce.
 */
export async function verifyIdToken(
  ctx: AppContext,
  metadata: ProviderMetadata,
  settings: SsoSettings,
  idToken: string,
  nonce: string,
): Promise<JWTPayload & { sub: string }> {
  const supported = metadata.id_token_signing_alg_values_supported ?? ["RS256"];
  const algorithms = supported.filter((alg) => asymmetricAlgorithms.includes(alg));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, jwksFor(metadata.jwks_uri), {
      issuer: metadata.issuer,
      audience: settings.clientId,
      algorithms: algorithms.length > 0 ? algorithms : ["RS256"],
      currentDate: new Date(ctx.clock.now()),
      clockTolerance: 60,
      requiredClaims: ["sub", "iat", "exp"],
    }));
  } catch (error) {
    const reason = refusalReason(error);
    if (reason === undefined) throw idpError("jwks_unavailable", "The provider's signing keys could not be fetched");
    throw invalidIdToken(reason, "The ID token failed verification");
  }
  // OIDC Core 3.1.3.7: with several audiences azp must be present; whenever present, it must be us.
  const severalAudiences = Array.isArray(payload.aud) && payload.aud.length > 1;
  if ((severalAudiences || payload.azp !== undefined) && payload.azp !== settings.clientId) {
    throw invalidIdToken("wrong_authorized_party", "The ID token was issued to another party");
  }
  if (typeof payload.nonce !== "string" || !constantTimeEqual(payload.nonce, nonce)) {
    throw invalidIdToken("wrong_nonce", "The ID token does not carry this sign-on's nonce");
  }
  if (typeof payload.sub !== "string" || payload.sub === "")
    throw invalidIdToken("claim_sub", "The ID token has no subject");
  return payload as JWTPayload & { sub: string };
}

export interface AssertedProfile {
  email: string | undefined;
  /** true, false, or undefined when the provider says nothing. */
  emailVerified: boolean | undefined;
  name: string | undefined;
}

function readProfile(claims: Record<string, unknown>): AssertedProfile {
  const email = typeof claims.email === "string" && claims.email !== "" ? claims.email.toLowerCase() : undefined;
  // Some providers (older ADFS and Cognito setups among them) send the flag as a string.
  const flag = claims.email_verified;
  const emailVerified =
    flag === true || flag === "true" ? true : flag === false || flag === "false" ? false : undefined;
  const name =
    typeof claims.name === "string" && claims.name.trim() !== "" ? claims.name.trim().slice(0, 200) : undefined;
  return { email, emailVerified, name };
}

/**
 * The email (and name) the provider asserts: from the ID token, else from the userinfo endpoint
 * (some providers put scope claims there only), whose `sub` must match the ID token's.
 */
export async function assertedProfile(
  metadata: ProviderMetadata,
  claims: JWTPayload & { sub: string },
  accessToken: string | undefined,
): Promise<AssertedProfile> {
  const fromIdToken = readProfile(claims);
  if (fromIdToken.email !== undefined || !metadata.userinfo_endpoint || !accessToken) return fromIdToken;
  if (!parseSecureUrl(metadata.userinfo_endpoint)) return fromIdToken;
  const { status, body } = await fetchJson(
    metadata.userinfo_endpoint,
    { headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" } },
    "userinfo endpoint",
  );
  if (status !== 200 || !isRecord(body))
    throw idpError("userinfo_failed", `The userinfo endpoint answered HTTP ${status}`);
  if (body.sub !== claims.sub) throw invalidIdToken("userinfo_subject_mismatch", "Userinfo describes another subject");
  return readProfile(body);
}
