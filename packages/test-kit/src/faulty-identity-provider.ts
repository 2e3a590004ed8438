/**
 * A test identity provider that issues deliberately wrong ID tokens, in its own process on a
 * loopback port. It speaks real OpenID Connect over HTTP (discovery, JWKS, authorization and token
 * endpoints, with PKCE checked), and the authorization request's `login_hint` picks the scenario:
 *
 *   valid             a correct ID token (the control: proves the other scenarios fail for their one fault)
 *   bad-signature     signed by a key that is not in the JWKS, under the published key id
 *   wrong-issuer      iss names another issuer
 *   wrong-audience    aud names another client
 *   expired           exp an hour in the past
 *   wrong-nonce       a nonce the relying party never sent
 *   wrong-azp         aud names the relying party, but azp (the authorized party) another client
 *   no-email-verified no email_verified claim (as Entra ID sends)
 *
 * Environment: IDP_CLIENT_ID, IDP_EMAIL (the email every token asserts). Prints "READY <issuer>".
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const clientId = process.env.IDP_CLIENT_ID ?? "tessera";
const email = process.env.IDP_EMAIL ?? "alice@example.com";
const published = await generateKeyPair("RS256");
const impostor = await generateKeyPair("RS256");
const kid = "faulty-provider-key";
const jwks = { keys: [{ ...(await exportJWK(published.publicKey)), kid, alg: "RS256", use: "sig" }] };

interface PendingCode {
  scenario: string;
  nonce: string;
  codeChallenge: string;
  redirectUri: string;
}
const codes = new Map<string, PendingCode>();

const server = createServer((request, response) => {
  handle(request, response).catch((error: unknown) => {
    response.statusCode = 500;
    response.end(String(error));
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
const issuer = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  let text = "";
  for await (const chunk of request) text += String(chunk);
  return new URLSearchParams(text);
}

async function idTokenFor(pending: PendingCode): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { scenario } = pending;
  const claims: Record<string, unknown> = {
    email,
    email_verified: true,
    name: "Scripted User",
    nonce: scenario === "wrong-nonce" ? randomBytes(16).toString("base64url") : pending.nonce,
  };
  if (scenario === "no-email-verified") delete claims.email_verified;
  if (scenario === "wrong-azp") claims.azp = "another-client";
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid })
    .setSubject(`faulty-${email}`)
    .setIssuer(scenario === "wrong-issuer" ? "https://impostor.example" : issuer)
    .setAudience(scenario === "wrong-audience" ? "another-client" : clientId)
    .setIssuedAt(scenario === "expired" ? now - 7200 : now)
    .setExpirationTime(scenario === "expired" ? now - 3600 : now + 300);
  return jwt.sign(scenario === "bad-signature" ? impostor.privateKey : published.privateKey);
}

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", issuer);
  if (url.pathname === "/.well-known/openid-configuration") {
    return json(response, 200, {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      code_challenge_methods_supported: ["S256"],
    });
  }
  if (url.pathname === "/jwks") return json(response, 200, jwks);
  if (url.pathname === "/authorize") {
    const params = url.searchParams;
    const redirectUri = params.get("redirect_uri") ?? "";
    if (params.get("client_id") !== clientId || params.get("code_challenge_method") !== "S256") {
      return json(response, 400, { error: "invalid_request" });
    }
    const code = randomBytes(16).toString("base64url");
    codes.set(code, {
      scenario: params.get("login_hint") ?? "valid",
      nonce: params.get("nonce") ?? "",
      codeChallenge: params.get("code_challenge") ?? "",
      redirectUri,
    });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    target.searchParams.set("state", params.get("state") ?? "");
    response.writeHead(302, { location: target.href });
    response.end();
    return;
  }
  if (url.pathname === "/token" && request.method === "POST") {
    const form = await readForm(request);
    const pending = codes.get(form.get("code") ?? "");
    codes.delete(form.get("code") ?? "");
    const verifier = form.get("code_verifier") ?? "";
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    if (!pending || challenge !== pending.codeChallenge || form.get("redirect_uri") !== pending.redirectUri) {
      return json(response, 400, { error: "invalid_grant" });
    }
    return json(response, 200, {
      access_token: randomBytes(16).toString("base64url"),
      token_type: "Bearer",
      expires_in: 300,
      id_token: await idTokenFor(pending),
    });
  }
  json(response, 404, { error: "not_found" });
}

process.stdout.write(`READY ${issuer}\n`);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
