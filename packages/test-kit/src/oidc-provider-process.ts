/**
 * A real OpenID provider for tests: panva's oidc-provider in its own process on a loopback port,
 * with one confidential client and scripted accounts. Logins are scripted: the interaction route
 * signs in the account named by the authorization request's `login_hint` (an account id or email)
 * and grants the requested scopes, with no page in between. Started with
 * `startChildServer(oidcProviderScript, env)` (child-process.ts).
 *
 * Environment: OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URIS (comma-separated),
 * OIDC_ACCOUNTS (JSON: { "<sub>": { email, email_verified?, name? } }).
 * Optional, for tests that need more than one client, provider or route:
 *   OIDC_EXTRA_CLIENTS  JSON array of further confidential clients: [{ client_id, client_secret, redirect_uris }]
 *   OIDC_JWKS           JSON private JWKS to sign with (instead of a fresh key), so two providers can share keys
 *   OIDC_ISSUER         the issuer to be, when it is not where the process listens (a proxy in front of it,
 *                       which must forward the Host header unchanged: endpoint URLs are built from it)
 * Prints "READY <url>" on standard output once listening: the URL it listens on, which is the
 * issuer unless OIDC_ISSUER says otherwise.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { type JWKS } from "oidc-provider";

interface ScriptedAccount {
  email: string;
  email_verified?: boolean;
  name?: string;
}

const accounts = JSON.parse(process.env.OIDC_ACCOUNTS ?? "{}") as Record<string, ScriptedAccount>;

function findScriptedAccount(hint: unknown): string | undefined {
  if (typeof hint !== "string") return undefined;
  if (Object.hasOwn(accounts, hint)) return hint;
  return Object.keys(accounts).find((sub) => accounts[sub]?.email === hint);
}

interface ExtraClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

const extraClients = JSON.parse(process.env.OIDC_EXTRA_CLIENTS ?? "[]") as ExtraClient[];

async function freshSigningKeys(): Promise<JWKS> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  return { keys: [{ ...(await exportJWK(privateKey)), kid: "test-provider-key", alg: "RS256", use: "sig" }] };
}

const signingKeys = process.env.OIDC_JWKS ? (JSON.parse(process.env.OIDC_JWKS) as JWKS) : await freshSigningKeys();

let handle: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
  response.statusCode = 503;
  response.end();
};
const server = createServer((request, response) => handle(request, response));
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
const listening = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
const issuer = process.env.OIDC_ISSUER ?? listening;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID ?? "tessera",
      client_secret: process.env.OIDC_CLIENT_SECRET ?? "",
      redirect_uris: (process.env.OIDC_REDIRECT_URIS ?? "").split(","),
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
    ...extraClients.map((client) => ({
      ...client,
      grant_types: ["authorization_code"],
      response_types: ["code" as const],
      token_endpoint_auth_method: "client_secret_basic" as const,
    })),
  ],
  jwks: signingKeys,
  cookies: { keys: ["test-provider-cookie-key"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  features: { devInteractions: { enabled: false } },
  async findAccount(_ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, ...account };
      },
    };
  },
});

/** The scripted user: logs in the hinted account and consents to whatever is asked. */
async function interact(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(request, response);
  if (details.prompt.name === "login") {
    const accountId = findScriptedAccount(details.params.login_hint);
    const result = accountId
      ? { login: { accountId } }
      : { error: "access_denied", error_description: "no scripted account matches login_hint" };
    await provider.interactionFinished(request, response, result, { mergeWithLastSubmission: false });
    return;
  }
  const accountId = details.session?.accountId ?? "";
  const clientId = String(details.params.client_id);
  const grant = details.grantId
    ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId }))
    : new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(request, response, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
handle = (request, response) => {
  if (request.url?.startsWith("/interaction/")) {
    interact(request, response).catch((error: unknown) => {
      response.statusCode = 500;
      response.end(String(error));
    });
    return;
  }
  callback(request, response);
};

process.stdout.write(`READY ${listening}\n`);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
