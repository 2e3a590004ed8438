import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createMember } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { rawExchange, rawRequest } from "@tessera/test-kit/raw-http.ts";

/**
 * Every string a log line holds, with serialised Buffers ({type: "Buffer", data: [...]})
 * decoded, so a secret logged as raw bytes is found too.
 */
function loggedStrings(line: string): string[] {
  const strings: string[] = [line];
  const visit = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      if (record.type === "Buffer" && Array.isArray(record.data)) {
        strings.push(Buffer.from(record.data as number[]).toString("latin1"));
      }
      Object.values(record).forEach(visit);
    }
  };
  visit(JSON.parse(line));
  return strings;
}

describe("log redaction", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance({ env: { TESSERA_LOG_LEVEL: "trace" } });
  });
  after(() => tessera.close());

  it("writes no token, password or API key into the logs, even at trace level", async () => {
    const secrets: string[] = [adminPassword];
    const member = await createMember(tessera, { password: "member password to hide" });
    secrets.push(member.password);

    // Logins, good and bad.
    const login = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: adminPassword, selectedOrg: tessera.orgId },
    });
    const token = login.body.token as string;
    secrets.push(token);
    await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: "a wrong password to hide", selectedOrg: tessera.orgId },
    });
    secrets.push("a wrong password to hide");
    await tessera.request("/user/authenticate", {
      body: { email: "unknown@example.com", password: "unknown users password", selectedOrg: tessera.orgId },
    });
    secrets.push("unknown users password");

    // Renewal, API key creation and use.
    const renewed = (await tessera.request("/user/authenticate", { token })).body.token as string;
    secrets.push(renewed);
    const apiKey = (
      await tessera.request("/user/apiKey", { token: renewed, body: { orgUserId: member.membershipId, name: "k" } })
    ).body.apiKey as string;
    secrets.push(apiKey);
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
    assert.equal((await tessera.request("/user/users/me", { token: renewed })).status, 200);

    // Password change, and one that fails the policy.
    await tessera.request("/user/password", {
      body: { email: member.email, currentPassword: member.password, newPassword: "short" },
    });
    secrets.push("short-ignored");
    const changed = await tessera.request("/user/password", {
      body: { email: member.email, currentPassword: member.password, newPassword: "member new password to hide" },
    });
    assert.equal(changed.status, 204);
    secrets.push("member new password to hide");

    // Bad tokens and bad bodies that carry secrets.
    const forgedToken = `tsu_${"Q".repeat(43)}`;
    const forgedKey = `tsk_${"R".repeat(43)}`;
    secrets.push(forgedToken, forgedKey);
    await tessera.request("/user/users/me", { token: forgedToken });
    await tessera.request("/user/users/me", { apiKey: forgedKey });
    await tessera.request("/user/users/me", { headers: { authorization: `Basic ${forgedToken}` } });
    await tessera.request("/user/authenticate", {
      rawBody: `{"email":"${adminEmail}","password":"${adminPassword}",`,
    });
    await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: adminPassword, extra: renewed },
    });
    await rawRequest(tessera.baseUrl, "/user/authenticate", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: `password=${adminPassword}`,
    });
    // A request Node cannot parse, carrying a live token: the raw packet must not be logged.
    await rawExchange(
      tessera.baseUrl,
      `GET /user/users/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${renewed}\r\nBroken Header\r\n\r\n`,
    );

    // One-time secrets in query strings: the provider's code and the state on the SSO callback.
    const providerCode = "provider-code-to-hide";
    const ssoState = "sso-state-to-hide";
    secrets.push(providerCode, ssoState);
    await tessera.request(`/sso/callback?code=${providerCode}&state=${ssoState}`);
    await tessera.request(`/sso/callback?state=${ssoState}&error=access_denied`);

    // Token-shaped values anywhere in a URL: query parameters whatever their name, and path
    // segments that look like Tessera tokens or JWTs. Live tokens and made-up ones alike.
    const jwt = `eyJhbGciOiJSUzUxMiJ9.${Buffer.from('{"sub":"bot-to-hide"}').toString("base64url")}.c2lnbmF0dXJl`;
    const handover = `tsh_${"H".repeat(43)}`;
    const serviceToken = `tss_${"S".repeat(43)}`;
    const keyManagerToken = `tsm_${"M".repeat(43)}`;
    const plainKey = "plain-secret-key-to-hide";
    const unnamed = `tsu_${"U".repeat(43)}`;
    secrets.push(jwt, handover, serviceToken, keyManagerToken, plainKey, unnamed);
    const urls = [
      `/user/users/me?sessionToken=${serviceToken}`,
      `/user/users/me?keyManagerToken=${keyManagerToken}`,
      `/user/users/me?apiKey=${apiKey}`,
      `/user/users/me?key=${plainKey}`,
      `/user/users/me?token=${renewed}`,
      `/user/users/me?access_token=${jwt}`,
      `/user/users/me?anything=${unnamed}&other=1`,
      `/user/users/me?x=1&Session%54oken=${serviceToken}`,
      `/user/users/me?next=${encodeURIComponent(`/a?b=${handover}`)}`,
      `/user/${renewed}`,
      `/user/users/${apiKey}/x`,
      `/sso/handover/${handover}`,
      `/login/pubkey/${jwt}`,
      `/agent/v5/datafeeds/${jwt}/read`,
      `/pod/v1/${serviceToken}?a=b`,
    ];
    for (const url of urls) await tessera.request(url);
    await tessera.request(`/user/users/me;token=${unnamed}`);

    // Logout last.
    assert.equal((await tessera.request("/user/authenticate", { method: "DELETE", token: renewed })).status, 204);
    await new Promise((resolve) => setImmediate(resolve));

    assert.ok(tessera.logs.length > 20, "trace logging produced lines");
    assert.equal(tessera.app.log.level, "trace");
    assert.ok(tessera.logs.some((line) => line.includes("unparseable request")));
    const leaks: string[] = [];
    for (const line of tessera.logs) {
      const strings = loggedStrings(line);
      for (const secret of secrets.filter((value) => value !== "short-ignored")) {
        if (strings.some((value) => value.includes(secret)))
          leaks.push(`${secret.slice(0, 6)}… in ${line.slice(0, 200)}`);
      }
    }
    assert.deepEqual(leaks, []);
    // Only the secrets go: the rest of each URL is still logged.
    const loggedUrls = tessera.logs.map((line) => JSON.parse(line).req?.url as string | undefined);
    for (const expected of [
      "/user/users/me?anything=[redacted]&other=1",
      "/user/users/me?x=1&Session%54oken=[redacted]",
      "/agent/v5/datafeeds/[redacted]/read",
      "/pod/v1/[redacted]?a=b",
    ]) {
      assert.ok(loggedUrls.includes(expected), `logged: ${expected}`);
    }
  });
});
