import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Browser } from "@tessera/test-kit/browser.ts";
import { type ChildServer, faultyIdentityProviderScript, startChildServer } from "@tessera/test-kit/child-process.ts";
import { auditEventsOfType, createMember } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { freePort } from "@tessera/test-kit/ports.ts";

const clientId = "tessera-test-client";

describe("ID token checks, against a test identity provider that issues deliberately wrong tokens", () => {
  let tessera: TestInstance;
  let idp: ChildServer;
  let adminToken: string;
  let publicUrl: string;

  const signOn = (scenario: string) =>
    new Browser().visit(`${tessera.baseUrl}/sso/${tessera.orgId}/login?loginHint=${scenario}`);
  const putSso = (body: Record<string, unknown>) =>
    tessera.request(`/admin/orgs/${tessera.orgId}/sso`, { method: "PUT", token: adminToken, body });
  const settings = { clientId, clientSecret: "faulty-provider-client-secret" };

  before(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    tessera = await startTestInstance({
      env: { TESSERA_HTTP_ADDR: `127.0.0.1:${port}`, TESSERA_PUBLIC_URL: publicUrl },
    });
    idp = await startChildServer(faultyIdentityProviderScript, {
      IDP_CLIENT_ID: clientId,
      IDP_EMAIL: "alice@example.com",
    });
    adminToken = await tessera.login();
    await createMember(tessera, { password: null, email: "alice@example.com", orgId: tessera.orgId });
    const configured = await putSso({ ...settings, issuer: idp.url });
    assert.equal(configured.status, 200, configured.text);
  });
  after(async () => {
    await idp?.stop();
    await tessera?.close();
  });

  it("shows the redirect URI to register, built from TESSERA_PUBLIC_URL", async () => {
    const shown = await tessera.request(`/admin/orgs/${tessera.orgId}/sso`, { token: adminToken });
    assert.equal(shown.body.redirectUri, `${publicUrl}/sso/callback`);
  });

  it("accepts a correct ID token (the control for every refusal below)", async () => {
    const visit = await signOn("valid");
    assert.equal(visit.status, 200, visit.text);
    const authorize = new URL(visit.chain.find((url) => url.startsWith(`${idp.url}/authorize`)) ?? "");
    assert.equal(authorize.searchParams.get("redirect_uri"), `${publicUrl}/sso/callback`);
    const me = await tessera.request("/user/users/me", { token: visit.body.token });
    assert.equal(me.status, 200);
    assert.equal(me.body.email, "alice@example.com");
  });

  const refusals: [string, string, string][] = [
    ["bad-signature", "bad_signature", "a tampered signature"],
    ["wrong-issuer", "wrong_issuer", "another issuer"],
    ["wrong-audience", "wrong_audience", "another audience"],
    ["expired", "expired", "an expiry in the past"],
    ["wrong-nonce", "wrong_nonce", "a nonce Tessera never sent"],
    ["wrong-azp", "wrong_authorized_party", "an authorized party (azp) that is another client"],
  ];
  for (const [scenario, reason, fault] of refusals) {
    it(`refuses an ID token with ${fault}: 401 sso_id_token_invalid, audited as ${reason}`, async () => {
      const sessionsBefore = await tessera.ctx.db.selectFrom("sessions").select("id").execute();
      const visit = await signOn(scenario);
      assert.equal(visit.status, 401, visit.text);
      assert.equal(visit.body.code, "sso_id_token_invalid");
      assert.equal(visit.headers.get("content-type"), "application/problem+json; charset=utf-8");
      const [event] = (await auditEventsOfType(tessera, "sso.login.failed")).slice(-1);
      assert.equal(event?.data.reason, reason);
      assert.equal(event?.data.code, "sso_id_token_invalid");
      assert.equal(event?.org_id, tessera.orgId);
      const sessionsAfter = await tessera.ctx.db.selectFrom("sessions").select("id").execute();
      assert.equal(sessionsAfter.length, sessionsBefore.length, "no session was created");
    });
  }

  it("refuses an email without email_verified by default, and trusts it when the org says so", async () => {
    const refused = await signOn("no-email-verified");
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, "sso_email_not_verified");
    const [event] = (await auditEventsOfType(tessera, "sso.login.failed")).slice(-1);
    assert.equal(event?.data.reason, "email_verified_missing");

    const trusting = await putSso({ ...settings, issuer: idp.url, requireEmailVerified: false });
    assert.equal(trusting.status, 200);
    const accepted = await signOn("no-email-verified");
    assert.equal(accepted.status, 200, accepted.text);
  });

  it("documents the sign-on and admin routes in /openapi.json", async () => {
    const document = await tessera.request("/openapi.json");
    assert.equal(document.status, 200);
    for (const path of ["/sso/{orgId}/login", "/sso/callback", "/sso/token", "/admin/orgs/{orgId}/sso"]) {
      assert.ok(document.body.paths[path], path);
    }
  });

  it("answers 502 sso_idp_error when the provider cannot be reached", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const updated = await putSso({ ...settings, issuer: closed });
    assert.equal(updated.status, 200);
    const response = await tessera.request(`/sso/${tessera.orgId}/login`);
    assert.equal(response.status, 502);
    assert.equal(response.body.code, "sso_idp_error");
  });
});
