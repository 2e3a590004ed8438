import type { SessionTokenResponse, SsoCallbackQuery, SsoLoginQuery } from "@tessera/protocol";
import { recordAudit } from "../audit/audit.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { openUserSession } from "../sessions/open-session.ts";
import { createHandover } from "./handover.ts";
import { resolveSsoUser } from "./identity.ts";
import { assertedProfile, discoverProvider, redeemAuthorizationCode, verifyIdToken } from "./identity-provider.ts";
import {
  admitSsoStart,
  attemptLifetimeMs,
  bindingCookieName,
  consumeAttempt,
  createAttempt,
} from "./login-attempts.ts";
import { loadSsoSettings, type SsoSettings } from "./sso-config.ts";
import { SsoRefusal } from "./sso-error.ts";
import { returnUrlAllowed } from "./urls.ts";

export interface SsoStart {
  /** The provider's authorization URL, where the browser goes next. */
  location: string;
  cookie: { name: string; value: string; maxAgeSeconds: number; secure: boolean };
}

/** `GET /sso/{orgId}/login`: a new attempt (state, nonce, PKCE) and the provider's authorization URL. */
export async function startSsoLogin(
  ctx: AppContext,
  orgId: number,
  query: SsoLoginQuery,
  redirectUri: string,
  ip: string,
): Promise<SsoStart> {
  admitSsoStart(ctx, ip);
  const settings = await loadSsoSettings(ctx, orgId);
  if (query.returnTo !== undefined && !returnUrlAllowed(query.returnTo, settings.allowedReturnUrls)) {
    throw new TesseraError("sso_return_url_not_allowed", "Add the URL to allowedReturnUrls, or use a loopback URL");
  }
  const metadata = await discoverProvider(settings.issuer);
  const attempt = await createAttempt(ctx, orgId, redirectUri, query.returnTo, query.handoverChallenge);
  const location = new URL(metadata.authorization_endpoint);
  const parameters: Record<string, string> = {
    response_type: "code",
    client_id: settings.clientId,
    redirect_uri: redirectUri,
    scope: settings.scopes.join(" "),
    state: attempt.state,
    nonce: attempt.nonce,
    code_challenge: attempt.codeChallenge,
    code_challenge_method: "S256",
  };
  if (query.loginHint !== undefined) parameters.login_hint = query.loginHint;
  for (const [name, value] of Object.entries(parameters)) location.searchParams.set(name, value);
  return {
    location: location.href,
    cookie: {
      name: bindingCookieName(attempt.state),
      value: attempt.browserBinding,
      maxAgeSeconds: attemptLifetimeMs / 1000,
      secure: redirectUri.startsWith("https:"),
    },
  };
}

/** How the callback ends: a redirect to the client's return URL, or the session itself. */
export type SsoOutcome = { kind: "redirect"; location: string } | { kind: "session"; session: SessionTokenResponse };

function withParameters(url: string, parameters: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(parameters)) target.searchParams.set(name, value);
  return target.href;
}

/**
 * `GET /sso/callback`: checks the state (single use, unexpired, same browser), redeems the code,
 * verifies the ID token and the asserted email, maps the identity to a user, and hands over.
 * Every refusal is audited as sso.login.failed with the check that failed; when the attempt has a
 * return URL, the refusal goes back there as `error=<code>` so the waiting client learns of it.
 */
export async function completeSsoLogin(
  ctx: AppContext,
  query: SsoCallbackQuery,
  cookies: Record<string, string>,
  ip: string,
): Promise<SsoOutcome> {
  const failure: { orgId: number | null; returnTo: string | null; email?: string; issuer?: string } = {
    orgId: null,
    returnTo: null,
  };
  try {
    const binding = query.state === undefined ? undefined : cookies[bindingCookieName(query.state)];
    const attempt = await consumeAttempt(ctx, query.state, binding);
    failure.orgId = attempt.org_id;
    failure.returnTo = attempt.return_to;
    const settings = await loadSsoSettings(ctx, attempt.org_id);
    failure.issuer = settings.issuer;
    if (query.error !== undefined) {
      throw new SsoRefusal("sso_access_denied", `provider_${query.error.replace(/[^a-z_]/g, "").slice(0, 40)}`);
    }
    if (!query.code) throw new SsoRefusal("sso_code_invalid", "code_missing");
    const metadata = await discoverProvider(settings.issuer);
    // RFC 9207: when the provider names itself in the response, it must be the one we sent the browser to.
    if (query.iss !== undefined && query.iss !== metadata.issuer) {
      throw new SsoRefusal("sso_code_invalid", "response_issuer_mismatch");
    }
    const tokens = await redeemAuthorizationCode(metadata, settings, {
      code: query.code,
      redirectUri: attempt.redirect_uri,
      codeVerifier: attempt.code_verifier,
    });
    const claims = await verifyIdToken(ctx, metadata, settings, tokens.idToken, attempt.nonce);
    const { email, emailVerified, name } = await assertedProfile(metadata, claims, tokens.accessToken);
    if (email !== undefined) failure.email = email;
    checkEmail(settings, email, emailVerified);
    const resolved = await resolveSsoUser(
      ctx,
      settings,
      {
        email: email ?? "",
        displayName: name,
        issuer: metadata.issuer,
        subject: claims.sub,
      },
      ip,
    );
    if (attempt.return_to !== null) {
      const code = await createHandover(ctx, resolved.org.orgId, resolved.userId, attempt.handover_challenge);
      return { kind: "redirect", location: withParameters(attempt.return_to, { code }) };
    }
    return {
      kind: "session",
      session: await openUserSession(ctx, resolved.userId, resolved.org, { ip, method: "sso" }),
    };
  } catch (error) {
    if (!(error instanceof TesseraError)) throw error;
    await recordAudit(ctx.db, ctx.clock.now(), {
      type: "sso.login.failed",
      orgId: failure.orgId ?? (error instanceof SsoRefusal ? (error.orgId ?? null) : null),
      actorUserId: null,
      data: {
        code: error.code,
        reason: error instanceof SsoRefusal ? error.reason : error.code,
        ...(failure.issuer === undefined ? {} : { issuer: failure.issuer }),
        ...(failure.email === undefined ? {} : { email: failure.email }),
      },
      ip,
    });
    if (failure.returnTo !== null) {
      return {
        kind: "redirect",
        location: withParameters(failure.returnTo, { error: error.code, error_description: error.message }),
      };
    }
    throw error;
  }
}

/** The provider must assert an email that is verified (or trusted by setting) and in an allowed domain. */
function checkEmail(
  settings: SsoSettings,
  email: string | undefined,
  verified: boolean | undefined,
): asserts email is string {
  if (email === undefined) throw new SsoRefusal("sso_email_not_verified", "email_missing");
  if (verified === false) throw new SsoRefusal("sso_email_not_verified", "email_not_verified");
  if (verified === undefined && settings.requireEmailVerified) {
    throw new SsoRefusal("sso_email_not_verified", "email_verified_missing");
  }
  const domain = email.slice(email.lastIndexOf("@") + 1);
  if (settings.allowedEmailDomains.length > 0 && !settings.allowedEmailDomains.includes(domain)) {
    throw new SsoRefusal("sso_domain_not_allowed", "domain_not_allowed");
  }
}
