import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "../helpers/instance.ts";

describe("POST /user/authenticate", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("returns a 15-minute bearer token for the org", async () => {
    const response = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: adminPassword, selectedOrg: tessera.orgId },
    });
    assert.equal(response.status, 200);
    assert.match(response.body.token, /^tsu_[A-Za-z0-9_-]{43}$/);
    assert.equal(response.body.tokenType, "Bearer");
    assert.equal(response.body.expiresIn, 900);
    assert.equal(response.body.expiresAt, Math.floor(tessera.clock.now() / 1000) + 900);
    assert.equal(response.body.orgId, tessera.orgId);
  });

  it("answers a wrong password with 401 invalid_credentials as problem+json with a Bearer challenge", async () => {
    const response = await tessera.request("/user/authenticate", {
      body: { email: adminEmail, password: "not the password", selectedOrg: tessera.orgId },
    });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
    assert.equal(response.body.code, "invalid_credentials");
    assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer /);
  });
});
