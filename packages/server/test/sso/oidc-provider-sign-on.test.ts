import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Browser } from "@tessera/test-kit/browser.ts";
import { type ChildServer, oidcProviderScript, startChildServer } from "@tessera/test-kit/child-process.ts";
import { runCli } from "@tessera/test-kit/cli.ts";
import { auditEventsOfType, createMember } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { hashPassword } from "../../src/crypto/passwords.ts";
import { putPasswordPolicy } from "../../src/policies/policies.ts";

const clientId = "tessera-test-client";
const clientSecret = "oidc-client-secret-that-must-never-leak-0123456789";
const appReturnUrl = "https://app.example.com/signed-in";

/** The provider's scripted accounts, picked per sign-on by login_hint. */
const accounts = {
  alice: { email: "alice@example.com", email_verified: true, name: "Alice" },
  bob: { email: "bob@example.com", email_verified: false },
  carol: { email: "carol@elsewhere.test", email_verified: true },
  dave: { email: "dave@example.com", email_verified: true },
  erin: { email: "erin@example.com", email_verified: true },
  frank: { email: "frank@example.com", email_verified: true },
  grace: { email: "grace@example.com", email_verified: true, name: "Grace" },
  root: { email: adminEmail, email_verified: true },
};

describe("single sign-on against a real OpenID provider (oidc-provider in its own process)", () => {
  let tessera: TestInstance;
  let provider: ChildServer;
  let adminToken: string;
  let orgId: number;

  const loginUrl = (hint: string, extra = "") =>
    `${tessera.baseUrl}/sso/${orgId}/login?loginHint=${encodeURIComponent(hint)}${extra}`;
  const isCallback = (url: URL) => url.pathname === "/sso/callback";
  const putSso = (body: Record<string, unknown>, token = adminToken) =>
    tessera.request(`/admin/orgs/${orgId}/sso`, { method: "PUT", token, body });
  const baseSettings = () => ({
    issuer: provider.url,
    clientId,
    allowedEmailDomains: ["example.com"],
    allowedReturnUrls: [appReturnUrl],
  });
  const failures = async () => (await auditEventsOfType(tessera, "sso.login.failed")).map((event) => event.data.reason);

  before(async () => {
    tessera = await startTestInstance();
    orgId = tessera.orgId;
    provider = await startChildServer(oidcProviderScript, {
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_REDIRECT_URIS: `${tessera.baseUrl}/sso/callback`,
      OIDC_ACCOUNTS: JSON.stringify(accounts),
    });
    adminToken = await tessera.login();
    await createMember(tessera, { password: null, email: "alice@example.com", orgId });
    await createMember(tessera, { password: null, email: "erin@example.com", orgId, active: false });
    await createMember(tessera, { password: null, email: "frank@example.com", orgId, membershipActive: false });
  });
  after(async () => {
    await provider?.stop();
    await tessera?.close();
  });

  describe("GET|PUT /admin/orgs/{orgId}/sso", () => {
    it("answers 404 sso_not_configured before any configuration", async () => {
      const response = await tessera.request(`/admin/orgs/${orgId}/sso`, { token: adminToken });
      assert.equal(response.status, 404);
      assert.equal(response.body.code, "sso_not_configured");
    });

    it("refuses a first configuration without a client secret, and stores nothing", async () => {
      const response = await putSso(baseSettings());
      assert.equal(response.status, 400);
      assert.equal(response.body.code, "sso_invalid_config");
      const after = await tessera.request(`/admin/orgs/${orgId}/sso`, { token: adminToken });
      assert.equal(after.status, 404);
    });

    it("refuses a plain-http issuer that is not on loopback, and scopes without openid", async () => {
      const http = await putSso({ ...baseSettings(), clientSecret, issuer: "http://idp.example.com" });
      assert.equal(http.status, 400);
      assert.equal(http.body.code, "sso_invalid_config");
      const scopes = await putSso({ ...baseSettings(), clientSecret, scopes: ["email"] });
      assert.equal(scopes.status, 400);
      assert.equal(scopes.body.code, "sso_invalid_config");
      assert.equal((await tessera.request(`/admin/orgs/${orgId}/sso`, { token: adminToken })).status, 404);
    });

    it("refuses callers without a token (401) and stores the settings for an admin, audited without the secret", async () => {
      const anonymous = await tessera.request(`/admin/orgs/${orgId}/sso`, { method: "PUT", body: baseSettings() });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.code, "invalid_token");

      const response = await putSso({ ...baseSettings(), clientSecret });
      assert.equal(response.status, 200);
      assert.equal(response.body.clientSecretSet, true);
      assert.deepEqual(response.body.scopes, ["openid", "email", "profile"]);
      assert.equal(response.body.jitProvisioning, false);
      assert.equal(response.body.requireEmailVerified, true);
      assert.equal(response.body.enabled, true);
      assert.equal(response.body.redirectUri, null, "no TESSERA_PUBLIC_URL here");
      assert.ok(!response.text.includes(clientSecret));
      assert.equal("clientSecret" in response.body, false);

      const shown = await tessera.request(`/admin/orgs/${orgId}/sso`, { token: adminToken });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.issuer, provider.url);
      assert.ok(!shown.text.includes(clientSecret));

      const [event] = await auditEventsOfType(tessera, "sso_config.updated");
      assert.equal(event?.data.clientSecretChanged, true);
      assert.ok(!JSON.stringify(event).includes(clientSecret));
      const stored = await tessera.ctx.db.selectFrom("sso_configs").selectAll().executeTakeFirstOrThrow();
      assert.ok(!stored.client_secret_sealed.includes(clientSecret), "sealed at rest");
    });

    it("lets a member neither read nor change the settings (403 forbidden)", async () => {
      const signedOn = await new Browser().visit(loginUrl("alice"));
      assert.equal(signedOn.status, 200, signedOn.text);
      const memberToken = signedOn.body.token as string;
      const read = await tessera.request(`/admin/orgs/${orgId}/sso`, { token: memberToken });
      assert.equal(read.status, 403);
      assert.equal(read.body.code, "forbidden");
      const write = await putSso({ ...baseSettings(), jitProvisioning: true }, memberToken);
      assert.equal(write.status, 403);
      assert.equal(write.body.code, "forbidden");
    });
  });

  describe("browser flow", () => {
    it("ends in a working Tessera session with the lifetime of a password login", async () => {
      const browser = new Browser();
      const visit = await browser.visit(loginUrl("alice"));
      assert.equal(visit.status, 200, visit.text);
      assert.equal(visit.headers.get("cache-control"), "no-store");
      // It really went through the provider: authorization endpoint, scripted interaction, back to Tessera.
      assert.ok(visit.chain.some((url) => url.startsWith(`${provider.url}/auth`)));
      assert.ok(visit.chain.some((url) => url.startsWith(`${provider.url}/interaction/`)));
      const authorize = new URL(visit.chain.find((url) => url.startsWith(`${provider.url}/auth`)) ?? "");
      assert.equal(authorize.searchParams.get("code_challenge_method"), "S256");
      assert.ok(authorize.searchParams.get("nonce"));
      assert.ok(authorize.searchParams.get("state"));
      assert.ok(
        visit.chain.every((url) => !url.includes("tsu_")),
        "no session token in any URL",
      );

      const password = await tessera.request("/user/authenticate", {
        body: { email: adminEmail, password: "correct horse battery staple", selectedOrg: orgId },
      });
      assert.match(visit.body.token, /^tsu_[A-Za-z0-9_-]{43}$/);
      assert.equal(visit.body.tokenType, "Bearer");
      assert.equal(visit.body.expiresIn, password.body.expiresIn);
      assert.equal(visit.body.orgId, orgId);

      const me = await tessera.request("/user/users/me", { token: visit.body.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.email, "alice@example.com");
      assert.equal(me.body.role, "member");
      assert.equal(me.body.currentOrg.id, orgId);

      const renewed = await tessera.request("/user/authenticate", { token: visit.body.token });
      assert.equal(renewed.status, 200, "an SSO session renews like any other");

      const succeeded = await auditEventsOfType(tessera, "sso.login.succeeded");
      assert.equal(succeeded.at(-1)?.data.email, "alice@example.com");
      assert.equal(succeeded.at(-1)?.data.issuer, provider.url);
      const created = await auditEventsOfType(tessera, "session.created");
      assert.equal(created.at(-2)?.data.method, "sso");
    });

    it("hands over to an allow-listed return URL with a single-use code, never the token", async () => {
      const browser = new Browser();
      const visit = await browser.visit(loginUrl("alice", `&returnTo=${encodeURIComponent(`${appReturnUrl}?tab=1`)}`), {
        stopAt: (url) => url.hostname === "app.example.com",
      });
      const landed = new URL(visit.url);
      assert.equal(landed.origin + landed.pathname, appReturnUrl);
      assert.equal(landed.searchParams.get("tab"), "1");
      const code = landed.searchParams.get("code") ?? "";
      assert.match(code, /^tsh_/);
      assert.ok(!visit.url.includes("tsu_"));

      const exchanged = await tessera.request("/sso/token", { body: { code } });
      assert.equal(exchanged.status, 200);
      assert.equal(exchanged.headers.get("cache-control"), "no-store");
      const me = await tessera.request("/user/users/me", { token: exchanged.body.token });
      assert.equal(me.body.email, "alice@example.com");

      const again = await tessera.request("/sso/token", { body: { code } });
      assert.equal(again.status, 400);
      assert.equal(again.body.code, "sso_code_invalid");
      assert.equal((await failures()).at(-1), "handover_unknown_used_or_expired");
    });

    it("binds the handover code to the client that started the sign-on when it gives a challenge", async () => {
      const verifier = randomBytes(32).toString("base64url");
      const challenge = createHash("sha256").update(verifier).digest("base64url");
      const start = async () => {
        const visit = await new Browser().visit(
          loginUrl("alice", `&returnTo=${encodeURIComponent(appReturnUrl)}&handoverChallenge=${challenge}`),
          { stopAt: (url) => url.hostname === "app.example.com" },
        );
        return new URL(visit.url).searchParams.get("code") ?? "";
      };
      // A code planted in a victim's browser (login CSRF) meets the victim's verifier, or none.
      for (const shown of [undefined, randomBytes(32).toString("base64url")]) {
        const sessionsBefore = (await tessera.ctx.db.selectFrom("sessions").select("id").execute()).length;
        const body = shown === undefined ? { code: await start() } : { code: await start(), handoverVerifier: shown };
        const refused = await tessera.request("/sso/token", { body });
        assert.equal(refused.status, 400, refused.text);
        assert.equal(refused.body.code, "sso_code_invalid");
        assert.equal((await failures()).at(-1), "handover_verifier_mismatch");
        const sessionsAfter = (await tessera.ctx.db.selectFrom("sessions").select("id").execute()).length;
        assert.equal(sessionsAfter, sessionsBefore, "no session was created");
      }
      const exchanged = await tessera.request("/sso/token", {
        body: { code: await start(), handoverVerifier: verifier },
      });
      assert.equal(exchanged.status, 200, exchanged.text);
      assert.equal(
        (await tessera.request("/user/users/me", { token: exchanged.body.token })).body.email,
        "alice@example.com",
      );

      const malformed = await tessera.request(`/sso/${orgId}/login?handoverChallenge=short`);
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.code, "invalid_request");
    });

    it("refuses a handover code after its minute has passed", async () => {
      const visit = await new Browser().visit(loginUrl("alice", `&returnTo=${encodeURIComponent(appReturnUrl)}`), {
        stopAt: (url) => url.hostname === "app.example.com",
      });
      const code = new URL(visit.url).searchParams.get("code") ?? "";
      await tessera.clock.advanceSeconds(61);
      const exchanged = await tessera.request("/sso/token", { body: { code } });
      assert.equal(exchanged.status, 400);
      assert.equal(exchanged.body.code, "sso_code_invalid");
    });

    it("refuses a return URL that is not allow-listed, before going to the provider", async () => {
      for (const returnTo of [
        "https://evil.example/steal",
        "https://app.example.com/other",
        "http://localhost:5000/cb",
      ]) {
        const response = await tessera.request(`/sso/${orgId}/login?returnTo=${encodeURIComponent(returnTo)}`);
        assert.equal(response.status, 400, returnTo);
        assert.equal(response.body.code, "sso_return_url_not_allowed");
      }
    });

    it("answers 404 sso_not_configured for an org without single sign-on", async () => {
      const response = await tessera.request("/sso/999/login");
      assert.equal(response.status, 404);
      assert.equal(response.body.code, "sso_not_configured");
    });

    it("does not hold SSO users to the password policy's expiry", async () => {
      const longAgo = tessera.clock.now() - 30 * 86_400_000;
      await tessera.ctx.db
        .updateTable("users")
        .set({ password_hash: await hashPassword("alice's old password"), password_changed_at: longAgo })
        .where("email", "=", "alice@example.com")
        .execute();
      await putPasswordPolicy(tessera.ctx.db, orgId, {
        minLength: 12,
        maxAgeDays: 1,
        historyCount: 5,
        maxFailedAttempts: 5,
        lockoutMinutes: 15,
      });
      try {
        const password = await tessera.request("/user/authenticate", {
          body: { email: "alice@example.com", password: "alice's old password", selectedOrg: orgId },
        });
        assert.equal(password.status, 401);
        assert.equal(password.body.code, "password_expired");
        const visit = await new Browser().visit(loginUrl("alice"));
        assert.equal(visit.status, 200, visit.text);
      } finally {
        await putPasswordPolicy(tessera.ctx.db, orgId, {
          minLength: 12,
          maxAgeDays: 0,
          historyCount: 5,
          maxFailedAttempts: 5,
          lockoutMinutes: 15,
        });
      }
    });
  });

  describe("state", () => {
    it("refuses a wrong state (400 sso_state_invalid, audited), while the genuine callback still works", async () => {
      const browser = new Browser();
      const stopped = await browser.visit(loginUrl("alice"), { stopAt: isCallback });
      const callback = new URL(stopped.url);
      const forged = new URL(callback);
      forged.searchParams.set("state", "not-the-state-that-was-sent");
      const wrong = await browser.visit(forged.href);
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.code, "sso_state_invalid");
      assert.equal((await failures()).at(-1), "state_unknown");

      const genuine = await browser.visit(callback.href);
      assert.equal(genuine.status, 200, genuine.text);
    });

    it("refuses a replayed state", async () => {
      const browser = new Browser();
      const stopped = await browser.visit(loginUrl("alice"), { stopAt: isCallback });
      const first = await browser.visit(stopped.url);
      assert.equal(first.status, 200, first.text);
      const replay = await browser.visit(stopped.url);
      assert.equal(replay.status, 400);
      assert.equal(replay.body.code, "sso_state_invalid");
      assert.equal((await failures()).at(-1), "state_replayed");
    });

    it("refuses a callback brought by another browser than the one that started the sign-on", async () => {
      const stopped = await new Browser().visit(loginUrl("alice"), { stopAt: isCallback });
      const elsewhere = await new Browser().visit(stopped.url);
      assert.equal(elsewhere.status, 400);
      assert.equal(elsewhere.body.code, "sso_state_invalid");
      assert.equal((await failures()).at(-1), "browser_mismatch");
    });

    it("refuses a state older than ten minutes", async () => {
      const browser = new Browser();
      const stopped = await browser.visit(loginUrl("alice"), { stopAt: isCallback });
      await tessera.clock.advanceSeconds(601);
      const late = await browser.visit(stopped.url);
      assert.equal(late.status, 400);
      assert.equal(late.body.code, "sso_state_invalid");
      assert.equal((await failures()).at(-1), "state_expired");
    });
  });

  describe("identity rules", () => {
    const refusals: [string, number, string, string][] = [
      ["bob", 403, "sso_email_not_verified", "email_not_verified"],
      ["carol", 403, "sso_domain_not_allowed", "domain_not_allowed"],
      ["dave", 403, "sso_user_not_provisioned", "unknown_user"],
      ["erin", 403, "account_disabled", "user_deactivated"],
      ["frank", 403, "org_access_denied", "membership_deactivated"],
      ["root", 403, "sso_account_not_eligible", "system_admin"],
    ];
    for (const [hint, status, code, reason] of refusals) {
      it(`refuses ${accounts[hint as keyof typeof accounts].email}: ${status} ${code}, audited as ${reason}, no session`, async () => {
        const sessionsBefore = await tessera.ctx.db.selectFrom("sessions").select("id").execute();
        const visit = await new Browser().visit(loginUrl(hint));
        assert.equal(visit.status, status, visit.text);
        assert.equal(visit.body.code, code);
        const [event] = (await auditEventsOfType(tessera, "sso.login.failed")).slice(-1);
        assert.equal(event?.data.reason, reason);
        assert.equal(event?.org_id, orgId);
        const sessionsAfter = await tessera.ctx.db.selectFrom("sessions").select("id").execute();
        assert.equal(sessionsAfter.length, sessionsBefore.length);
      });
    }

    it("reports a sign-on the provider itself refused as 403 sso_access_denied, audited", async () => {
      // The scripted provider refuses (error=access_denied) when no account matches the hint.
      const visit = await new Browser().visit(loginUrl("nobody@example.com"));
      assert.equal(visit.status, 403, visit.text);
      assert.equal(visit.body.code, "sso_access_denied");
      assert.equal((await failures()).at(-1), "provider_access_denied");
    });

    it("leaves an unknown user uncreated when provisioning is off", async () => {
      const user = await tessera.ctx.db
        .selectFrom("users")
        .select("id")
        .where("email", "=", "dave@example.com")
        .executeTakeFirst();
      assert.equal(user, undefined);
    });

    it("provisions an unknown user just in time with the default role when enabled", async () => {
      const updated = await putSso({ ...baseSettings(), jitProvisioning: true, defaultRole: "auditor" });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.clientSecretSet, true, "omitting the secret keeps it");

      const visit = await new Browser().visit(loginUrl("grace"));
      assert.equal(visit.status, 200, visit.text);
      const me = await tessera.request("/user/users/me", { token: visit.body.token });
      assert.equal(me.body.email, "grace@example.com");
      assert.equal(me.body.displayName, "Grace");
      assert.equal(me.body.role, "auditor");
      assert.equal(me.body.passwordExpiresAt, null);
      const user = await tessera.ctx.db
        .selectFrom("users")
        .selectAll()
        .where("email", "=", "grace@example.com")
        .executeTakeFirstOrThrow();
      assert.equal(user.password_hash, null);
      const [created] = (await auditEventsOfType(tessera, "user.created")).slice(-1);
      assert.equal(created?.data.via, "sso");
      const [succeeded] = (await auditEventsOfType(tessera, "sso.login.succeeded")).slice(-1);
      assert.equal(succeeded?.data.provisioned, "user");

      const second = await new Browser().visit(loginUrl("grace"));
      assert.equal(second.status, 200);
      const count = await tessera.ctx.db
        .selectFrom("users")
        .select("id")
        .where("email", "=", "grace@example.com")
        .execute();
      assert.equal(count.length, 1, "the second sign-on links to the provisioned user");
    });

    it("still refuses deactivated accounts and other domains with provisioning on", async () => {
      const erin = await new Browser().visit(loginUrl("erin"));
      assert.equal(erin.body.code, "account_disabled");
      const frank = await new Browser().visit(loginUrl("frank"));
      assert.equal(frank.body.code, "org_access_denied");
      const carol = await new Browser().visit(loginUrl("carol"));
      assert.equal(carol.body.code, "sso_domain_not_allowed");
      const users = await tessera.ctx.db
        .selectFrom("users")
        .select("id")
        .where("email", "=", "carol@elsewhere.test")
        .execute();
      assert.equal(users.length, 0);
    });

    it("refuses every sign-on once single sign-on is disabled", async () => {
      const updated = await putSso({ ...baseSettings(), enabled: false });
      assert.equal(updated.status, 200);
      const response = await tessera.request(`/sso/${orgId}/login`);
      assert.equal(response.status, 404);
      assert.equal(response.body.code, "sso_not_configured");
      await putSso(baseSettings());
    });
  });

  describe("another org's provider", () => {
    it("does not sign org 1's alice into org 2, even with provisioning on, until she accepts org 2's invitation", async () => {
      // Org 2 configures the same provider with just-in-time provisioning: it asserts alice.
      const org2 = (await tessera.request("/admin/orgs", { token: adminToken, body: { name: "Org two, SSO" } })).body
        .id as number;
      const org2Token = await tessera.login(undefined, undefined, org2);
      const configured = await tessera.request(`/admin/orgs/${org2}/sso`, {
        method: "PUT",
        token: org2Token,
        body: { ...baseSettings(), clientSecret, jitProvisioning: true },
      });
      assert.equal(configured.status, 200, configured.text);
      const org2Login = `${tessera.baseUrl}/sso/${org2}/login?loginHint=alice`;
      const alice = await tessera.ctx.db
        .selectFrom("users")
        .select("id")
        .where("email", "=", "alice@example.com")
        .executeTakeFirstOrThrow();
      const memberships = () =>
        tessera.ctx.db.selectFrom("memberships").select(["org_id", "active"]).where("user_id", "=", alice.id).execute();

      const refused = await new Browser().visit(org2Login);
      assert.equal(refused.status, 403, refused.text);
      assert.equal(refused.body.code, "sso_account_not_eligible");
      const [event] = (await auditEventsOfType(tessera, "sso.login.failed")).slice(-1);
      assert.equal(event?.data.reason, "other_org_account");
      assert.equal(event?.org_id, org2);
      assert.deepEqual(
        (await memberships()).map((row) => row.org_id),
        [orgId],
      );

      // Invited, still refused; accepted with her own sign-on at her home org, signed on.
      const invited = await tessera.request(`/admin/orgs/${org2}/users`, {
        token: org2Token,
        body: { email: "alice@example.com", role: "member" },
      });
      assert.equal(invited.status, 201, invited.text);
      assert.equal((await new Browser().visit(org2Login)).body.code, "sso_account_not_eligible");
      const home = await new Browser().visit(loginUrl("alice"));
      assert.equal(home.status, 200, home.text);
      const accepted = await tessera.request(`/user/invitations/${invited.body.orgUserId}/accept`, {
        method: "POST",
        token: home.body.token,
      });
      assert.equal(accepted.status, 200, accepted.text);
      const signedOn = await new Browser().visit(org2Login);
      assert.equal(signedOn.status, 200, signedOn.text);
      assert.equal(signedOn.body.orgId, org2);
      const [succeeded] = (await auditEventsOfType(tessera, "sso.login.succeeded")).slice(-1);
      assert.equal(succeeded?.data.provisioned, "none");
    });
  });

  describe("tessera login --sso (the command-line flow)", () => {
    const cliArgs = (hint: string) => [
      "login",
      "--sso",
      "--org",
      String(orgId),
      "--server",
      tessera.baseUrl,
      "--no-browser",
      "--login-hint",
      hint,
      "--timeout",
      "60",
    ];

    it("prints the URL, receives the handover on its loopback port, and prints a working token", async () => {
      const run = runCli(cliArgs("alice"));
      const url = new URL(await run.printedUrl);
      assert.equal(url.origin, tessera.baseUrl);
      assert.equal(url.pathname, `/sso/${orgId}/login`);
      const returnTo = new URL(url.searchParams.get("returnTo") ?? "");
      assert.equal(returnTo.hostname, "127.0.0.1");

      const page = await new Browser().visit(url.href);
      assert.equal(page.status, 200, page.text);
      assert.equal(new URL(page.url).port, returnTo.port, "the browser ended on the command's loopback listener");
      assert.match(page.text, /Signed in/);

      const { code, stdout } = await run.exited;
      assert.equal(code, 0);
      const token = JSON.parse(stdout);
      assert.match(token.token, /^tsu_/);
      assert.equal(token.expiresIn, 900);
      assert.equal(token.server, tessera.baseUrl, "the same JSON as tessera login prints");
      const me = await tessera.request("/user/users/me", { token: token.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.email, "alice@example.com");
    });

    it("saves the token with --save in a file only its owner can read, which tessera token renew renews", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tessera-cli-"));
      try {
        const file = join(dir, "token.json");
        const run = runCli([...cliArgs("alice"), "--save", file]);
        const page = await new Browser().visit(await run.printedUrl);
        assert.equal(page.status, 200, page.text);
        const { code, stdout } = await run.exited;
        assert.equal(code, 0);
        assert.equal(stdout, "", "nothing but the file holds the token");
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const token = JSON.parse(readFileSync(file, "utf8"));
        const me = await tessera.request("/user/users/me", { token: token.token });
        assert.equal(me.status, 200);

        // The file is the one `tessera login --save` writes: renewing needs no --server.
        const renew = await runCli(["token", "renew", "--token-file", file]).exited;
        assert.equal(renew.code, 0, renew.stderr);
        assert.equal(token.server, tessera.baseUrl);
        assert.equal(token.tokenType, "Bearer");
        assert.equal(token.orgId, orgId);
        const renewed = JSON.parse(readFileSync(file, "utf8"));
        assert.notEqual(renewed.token, token.token);
        assert.equal(renewed.server, tessera.baseUrl);
        assert.ok(renewed.expiresAt >= token.expiresAt);
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const renewedMe = await tessera.request("/user/users/me", { token: renewed.token });
        assert.equal(renewedMe.status, 200);
        assert.equal(renewedMe.body.email, "alice@example.com");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("reports a refused sign-on with its code and exits 1", async () => {
      const run = runCli(cliArgs("bob"));
      const page = await new Browser().visit(await run.printedUrl);
      assert.equal(page.status, 400);
      const { code, stdout, stderr } = await run.exited;
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.match(stderr, /sso_email_not_verified/);
    });

    it("ignores a request to its loopback port that does not carry its secret", async () => {
      const run = runCli(cliArgs("alice"));
      const returnTo = new URL(new URL(await run.printedUrl).searchParams.get("returnTo") ?? "");
      const forged = await fetch(`${returnTo.origin}/callback?s=guess&code=tsh_forged`);
      assert.equal(forged.status, 404);
      const page = await new Browser().visit(await run.printedUrl);
      assert.equal(page.status, 200, page.text);
      assert.equal((await run.exited).code, 0);
    });
  });

  it("never writes the client secret to a log line", () => {
    assert.ok(tessera.logs.length > 0);
    assert.ok(!tessera.logs.join("\n").includes(clientSecret));
  });
});
