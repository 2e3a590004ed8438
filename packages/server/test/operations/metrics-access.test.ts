import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createMember } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { ConfigError, loadConfig } from "../../src/config/config.ts";

describe("TESSERA_METRICS", () => {
  it("is public by default, and refuses an unknown value", () => {
    assert.equal(loadConfig({ argv: [], env: {} }).metrics, "public");
    assert.throws(() => loadConfig({ argv: [], env: { TESSERA_METRICS: "private" } }), ConfigError);
  });

  describe("auditor", () => {
    let tessera: TestInstance;
    before(async () => {
      tessera = await startTestInstance({ env: { TESSERA_METRICS: "auditor" } });
    });
    after(() => tessera.close());

    it("lets only a token that may read the audit log read /metrics", async () => {
      const anonymous = await tessera.request("/metrics");
      assert.equal(anonymous.status, 401, anonymous.text);
      const member = await createMember(tessera);
      const memberToken = await tessera.login(member.email, member.password);
      assert.equal((await tessera.request("/metrics", { token: memberToken })).status, 403);
      const auditor = await createMember(tessera, { role: "auditor" });
      const auditorToken = await tessera.login(auditor.email, auditor.password);
      const allowed = await tessera.request("/metrics", { token: auditorToken });
      assert.equal(allowed.status, 200, allowed.text);
      assert.match(allowed.text, /tessera_http_requests_total/);
    });
  });

  describe("off", () => {
    let tessera: TestInstance;
    before(async () => {
      tessera = await startTestInstance({ env: { TESSERA_METRICS: "off" } });
    });
    after(() => tessera.close());

    it("serves no /metrics at all", async () => {
      const response = await tessera.request("/metrics", { token: await tessera.login() });
      assert.equal(response.status, 404, response.text);
    });
  });
});
