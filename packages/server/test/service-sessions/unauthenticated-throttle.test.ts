import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createPubkeyJwt } from "@tessera/client";
import { addBot, agentLogin } from "@tessera/test-kit/agent.ts";
import { auditEventsOfType } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

describe("garbage key-pair logins from one address", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("are throttled with 429 and Retry-After, and audited a few at a time, then summed up in one event", async () => {
    const adminToken = await tessera.login();
    const bot = await addBot(tessera, adminToken);
    const wrongKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .privateKey.export({ type: "pkcs8", format: "pem" })
      .toString();
    const statuses = new Map<number, number>();
    let throttled: Awaited<ReturnType<TestInstance["request"]>> | undefined;
    for (let attempt = 0; attempt < 300; attempt++) {
      const response = await tessera.request("/login/pubkey/authenticate", {
        body: { token: createPubkeyJwt(bot.username, wrongKey, tessera.clock.now()) },
      });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 429) throttled ??= response;
    }
    assert.ok((statuses.get(429) ?? 0) >= 200, JSON.stringify([...statuses]));
    assert.ok(throttled);
    // Symphony's shape on /login/.
    assert.deepEqual([throttled.body.code, throttled.body.reason], [429, "too_many_requests"]);
    assert.ok(Number(throttled.headers.get("retry-after")) > 0);

    const failed = (await auditEventsOfType(tessera, "login.failed")).filter(
      (event) => event.data.username === bot.username,
    );
    assert.ok(failed.length <= 11, `${failed.length} login.failed events`);
    const summary = failed.at(-1);
    assert.equal(summary?.data.reason, "too_many_failures");
    assert.ok(Number(summary?.data.failures) >= 40, JSON.stringify(summary?.data));

    // The window passes: the real key logs in again from the same address.
    await tessera.clock.advanceSeconds(61);
    const tokens = await agentLogin(tessera, bot);
    assert.match(tokens.sessionToken, /^tss_/);
  });
});
