import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { createMember, createOrg, createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { type RunningNginx, startNginx } from "@tessera/test-kit/nginx.ts";
import { SignJWT } from "jose";
import { revokeSessions } from "../../src/sessions/revoke-sessions.ts";

/** A service user with a registered RSA key, logged in through key-pair login (no certificate needed here). */
async function serviceLogin(tessera: TestInstance, orgId: number, username: string) {
  const { userId, membershipId } = await createServiceUser(tessera, { orgId, username });
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  await tessera.ctx.db
    .insertInto("service_rsa_keys")
    .values({
      org_id: orgId,
      user_id: userId,
      public_key_pem: publicKey.export({ type: "spki", format: "pem" }).toString(),
      fingerprint: `fixture-${username}`,
      created_at: tessera.clock.now(),
    })
    .execute();
  const nowSeconds = Math.floor(tessera.clock.now() / 1000);
  const jwt = await new SignJWT({})
    .setProtectedHeader({ alg: "RS512" })
    .setSubject(username)
    .setExpirationTime(nowSeconds + 240)
    .sign(privateKey);
  const session = await tessera.request("/login/pubkey/authenticate", { body: { token: jwt } });
  assert.equal(session.status, 200, session.text);
  const km = await tessera.request("/relay/pubkey/authenticate", { body: { token: jwt } });
  assert.equal(km.status, 200, km.text);
  return {
    userId,
    membershipId,
    sessionToken: session.body.token as string,
    authorizationToken: session.body.authorizationToken as string,
    keyManagerToken: km.body.token as string,
  };
}

/** A new member of the bootstrap org, logged in: their session token. */
async function loginNewMember(tessera: TestInstance, email: string, role: "member" | "auditor", password: string) {
  await createMember(tessera, { email, role, password });
  return tessera.login(email, password);
}

describe("resource servers", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let memberToken: string;
  let bot: Awaited<ReturnType<typeof serviceLogin>>;

  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    memberToken = await loginNewMember(tessera, "member@example.com", "member", "member password 123");
    bot = await serviceLogin(tessera, tessera.orgId, "resource-bot");
  });
  after(() => tessera.close());

  describe("POST /oauth2/introspect (RFC 7662)", () => {
    const introspect = (token: string, caller = adminToken) =>
      tessera.request("/oauth2/introspect", {
        token: caller,
        rawBody: new URLSearchParams({ token }).toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });

    it("describes every live token kind: user session, API key, service, key-manager and authorization tokens", async () => {
      const apiKey = await tessera.request("/user/apiKey", {
        token: adminToken,
        body: { orgUserId: 1, name: "introspection test" },
      });
      assert.equal(apiKey.status, 200, apiKey.text);
      const cases: [string, string][] = [
        [adminToken, "user_session"],
        [apiKey.body.apiKey, "api_key"],
        [bot.sessionToken, "service_session"],
        [bot.keyManagerToken, "keymanager_session"],
        [bot.authorizationToken, "authorization_token"],
      ];
      for (const [token, type] of cases) {
        const response = await introspect(token);
        assert.equal(response.status, 200, response.text);
        assert.equal(response.headers.get("cache-control"), "no-store");
        assert.equal(response.body.active, true, type);
        assert.equal(response.body.token_type, type);
        assert.equal(response.body.org, tessera.orgId);
        if (type === "api_key") assert.equal(response.body.exp, undefined);
        else assert.equal(typeof response.body.exp, "number");
      }
      const service = await introspect(bot.sessionToken);
      assert.equal(service.body.sub, String(bot.userId));
      assert.equal(service.body.username, "resource-bot");
      assert.equal(service.body.role, "service");
      assert.equal(service.body.scope, "self:read tokens:introspect");
    });

    it("accepts a JSON body too", async () => {
      const response = await tessera.request("/oauth2/introspect", {
        token: adminToken,
        body: { token: bot.sessionToken },
      });
      assert.equal(response.status, 200);
      assert.equal(response.body.active, true);
    });

    it("answers {active: false} for garbage, unknown tokens and tokens of another org", async () => {
      const otherOrg = await createOrg(tessera, "Elsewhere");
      const stranger = await serviceLogin(tessera, otherOrg, "elsewhere-bot");
      for (const token of [
        "garbage",
        `tss_${"x".repeat(43)}`,
        "a.b.c",
        stranger.sessionToken,
        stranger.authorizationToken,
      ]) {
        const response = await introspect(token);
        assert.equal(response.status, 200);
        assert.deepEqual(response.body, { active: false });
      }
    });

    it("needs an authenticated caller allowed to introspect: 401 without, 403 for a member", async () => {
      const anonymous = await tessera.request("/oauth2/introspect", { body: { token: bot.sessionToken } });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.code, "invalid_token");
      const member = await introspect(bot.sessionToken, memberToken);
      assert.equal(member.status, 403);
      assert.equal(member.body.code, "forbidden");
      const missing = await tessera.request("/oauth2/introspect", { token: adminToken, body: {} });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.code, "invalid_request");
    });

    it("reports a revoked session's authorization token as inactive", async () => {
      const victim = await serviceLogin(tessera, tessera.orgId, "revoked-bot");
      assert.equal((await introspect(victim.authorizationToken)).body.active, true);
      await revokeSessions(
        tessera.ctx,
        { orgId: tessera.orgId, userId: victim.userId },
        { actorUserId: 1, reason: "admin", ip: null },
      );
      assert.deepEqual((await introspect(victim.authorizationToken)).body, { active: false });
      assert.deepEqual((await introspect(victim.sessionToken)).body, { active: false });
    });
  });

  describe("forward-auth through a real nginx (auth_request)", () => {
    let nginx: RunningNginx;
    let upstream: Server;
    const seen: IncomingHttpHeaders[] = [];

    before(async () => {
      upstream = createServer((request, response) => {
        seen.push(request.headers);
        response.setHeader("content-type", "application/json");
        response.end(
          JSON.stringify({
            userId: request.headers["x-tessera-user-id"],
            orgId: request.headers["x-tessera-org-id"],
            role: request.headers["x-tessera-role"],
            tokenType: request.headers["x-tessera-token-type"],
          }),
        );
      });
      await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
      const upstreamAddress = upstream.address();
      const upstreamPort = typeof upstreamAddress === "object" && upstreamAddress ? upstreamAddress.port : 0;
      const tesseraOrigin = tessera.baseUrl;
      const protectedLocation = (path: string, authLocation: string) => `
    location ${path} {
      auth_request ${authLocation};
      auth_request_set $tessera_user_id $upstream_http_x_tessera_user_id;
      auth_request_set $tessera_org_id $upstream_http_x_tessera_org_id;
      auth_request_set $tessera_role $upstream_http_x_tessera_role;
      auth_request_set $tessera_token_type $upstream_http_x_tessera_token_type;
      proxy_set_header X-Tessera-User-Id $tessera_user_id;
      proxy_set_header X-Tessera-Org-Id $tessera_org_id;
      proxy_set_header X-Tessera-Role $tessera_role;
      proxy_set_header X-Tessera-Token-Type $tessera_token_type;
      proxy_pass http://127.0.0.1:${upstreamPort};
    }`;
      const authLocation = (path: string, query: string) => `
    location = ${path} {
      internal;
      proxy_pass ${tesseraOrigin}/auth/forward${query};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
    }`;
      nginx = await startNginx(
        (port) => `
  server {
    listen 127.0.0.1:${port};
    location = / { return 204; }
${authLocation("/_auth", "")}
${authLocation("/_auth_users_read", "?permission=users:read")}
${protectedLocation("/api/", "/_auth")}
${protectedLocation("/admin-api/", "/_auth_users_read")}
  }`,
      );
    });
    after(async () => {
      await nginx?.stop();
      await new Promise((resolve) => upstream?.close(resolve));
    });

    it("passes a live token through with identity headers (200)", async () => {
      const response = await fetch(`${nginx.url}/api/things`, { headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(response.status, 200, nginx.errorLog());
      const body = (await response.json()) as Record<string, string>;
      assert.equal(body.orgId, String(tessera.orgId));
      assert.equal(body.role, "owner");
      assert.equal(body.tokenType, "user_session");
      const viaSessionToken = await fetch(`${nginx.url}/api/things`, { headers: { sessionToken: bot.sessionToken } });
      assert.equal(viaSessionToken.status, 200);
      assert.equal(((await viaSessionToken.json()) as Record<string, string>).userId, String(bot.userId));
      const viaJwt = await fetch(`${nginx.url}/api/things`, {
        headers: { authorization: `Bearer ${bot.authorizationToken}` },
      });
      assert.equal(viaJwt.status, 200);
      assert.equal(((await viaJwt.json()) as Record<string, string>).tokenType, "authorization_token");
    });

    it("answers 401 for a missing or dead token, without reaching the upstream", async () => {
      const before = seen.length;
      const missing = await fetch(`${nginx.url}/api/things`);
      assert.equal(missing.status, 401);
      const dead = await fetch(`${nginx.url}/api/things`, {
        headers: { authorization: "Bearer tsu_not-a-live-token" },
      });
      assert.equal(dead.status, 401);
      assert.equal(seen.length, before);
    });

    it("answers 403 when the token lacks the location's permission, 200 when it has it", async () => {
      const before = seen.length;
      const service = await fetch(`${nginx.url}/admin-api/users`, { headers: { sessionToken: bot.sessionToken } });
      assert.equal(service.status, 403);
      const member = await fetch(`${nginx.url}/admin-api/users`, {
        headers: { authorization: `Bearer ${memberToken}` },
      });
      assert.equal(member.status, 403);
      assert.equal(seen.length, before);
      const admin = await fetch(`${nginx.url}/admin-api/users`, { headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(admin.status, 200);
    });

    it("feels a revocation on the next request (401)", async () => {
      const victim = await serviceLogin(tessera, tessera.orgId, "forward-victim");
      assert.equal((await fetch(`${nginx.url}/api/x`, { headers: { sessionToken: victim.sessionToken } })).status, 200);
      await revokeSessions(
        tessera.ctx,
        { orgId: tessera.orgId, userId: victim.userId },
        { actorUserId: 1, reason: "admin", ip: null },
      );
      assert.equal((await fetch(`${nginx.url}/api/x`, { headers: { sessionToken: victim.sessionToken } })).status, 401);
    });
  });

  it("GET /auth/forward answers directly too: 400 for an unknown permission name", async () => {
    const response = await tessera.request("/auth/forward?permission=fly", { token: adminToken });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, "invalid_request");
    const ok = await tessera.request("/auth/forward", { token: adminToken });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-tessera-user-id"), "1");
  });
});

describe("the OpenAPI document", () => {
  it("documents the service-session, authorization-token, admin and resource-server paths", async () => {
    const tessera = await startTestInstance();
    try {
      const response = await tessera.request("/openapi.json");
      assert.equal(response.status, 200);
      for (const path of [
        "/sessionauth/v1/authenticate",
        "/keyauth/v1/authenticate",
        "/sessionauth/v1/logout",
        "/pod/v2/sessioninfo",
        "/login/idm/tokens",
        "/.well-known/jwks.json",
        "/login/pubkey/authenticate",
        "/relay/pubkey/authenticate",
        "/admin/orgs/{orgId}/trusted-cas",
        "/admin/orgs/{orgId}/apps/{appId}",
        "/admin/orgs/{orgId}/users/{userId}/rsa-keys/{keyId}",
        "/oauth2/introspect",
        "/auth/forward",
      ]) {
        assert.ok(response.body.paths[path], path);
      }
    } finally {
      await tessera.close();
    }
  });
});
