import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createMember, createOrg, openSession } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("forward-auth: a required org, and names outside ASCII", () => {
  let tessera: TestInstance;
  let adminToken: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
  });
  after(() => tessera.close());

  it("?org=<id> lets through only tokens of that org: 403 forbidden for another org's", async () => {
    const ok = await tessera.request(`/auth/forward?org=${tessera.orgId}`, { token: adminToken });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get("x-tessera-org-id"), String(tessera.orgId));

    const otherOrg = await createOrg(tessera);
    const stranger = await createMember(tessera, { orgId: otherOrg });
    const foreign = await openSession(tessera, { email: stranger.email, orgId: otherOrg });
    const refused = await tessera.request(`/auth/forward?org=${tessera.orgId}`, { token: foreign });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.code, "forbidden");
    assert.equal(refused.headers.get("x-tessera-user-id"), null);

    // Both conditions at once, and a malformed org.
    const both = await tessera.request(`/auth/forward?org=${otherOrg}&permission=self:read`, { token: foreign });
    assert.equal(both.status, 200, both.text);
    for (const org of ["abc", "0", "-1"]) {
      const bad = await tessera.request(`/auth/forward?org=${org}`, { token: adminToken });
      assert.equal(bad.status, 400, `${org}: ${bad.text}`);
      assert.equal(bad.body.code, "invalid_request");
    }
  });

  it("sends a username outside ASCII percent-encoded (UTF-8), says so, and never answers 5xx", async () => {
    for (const email of ["用户@example.com", "josé@example.com"]) {
      const member = await createMember(tessera, { email });
      const token = await openSession(tessera, { email: member.email });
      for (const method of ["GET", "HEAD"] as const) {
        const response = await tessera.request("/auth/forward", { method, token });
        assert.equal(response.status, 200, `${method} ${email}: ${response.text}`);
        const sent = response.headers.get("x-tessera-username");
        assert.equal(sent, encodeURIComponent(email));
        assert.equal(decodeURIComponent(sent ?? ""), email);
        assert.equal(response.headers.get("x-tessera-username-encoding"), "percent");
      }
    }
    // Plain ASCII names are sent as they are, without the encoding header.
    const plain = await tessera.request("/auth/forward", { token: adminToken });
    assert.equal(plain.headers.get("x-tessera-username"), "admin@example.com");
    assert.equal(plain.headers.get("x-tessera-username-encoding"), null);
  });
});
