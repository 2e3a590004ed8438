import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createPubkeyJwt } from "@tessera/client";
import { auditEventsOfType, createServiceUser } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance, type TestResponse } from "@tessera/test-kit/instance.ts";
import { testStore } from "@tessera/test-kit/test-database.ts";
import { SignJWT } from "jose";

interface Bot {
  username: string;
  userId: number;
  privateKey: KeyObject;
}

/** A service user of the instance's org with a registered RSA key. */
async function addBot(tessera: TestInstance, adminToken: string, username: string): Promise<Bot> {
  const { userId } = await createServiceUser(tessera, { orgId: tessera.orgId, username });
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const added = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${userId}/rsa-keys`, {
    token: adminToken,
    body: { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() },
  });
  assert.equal(added.status, 201, added.text);
  return { username, userId, privateKey };
}

/** Symphony's official clients sign exactly `{sub, exp}`; `claims` adds aud or jti. */
function signToken(
  tessera: TestInstance,
  bot: Bot,
  claims: { aud?: string | string[]; jti?: string; exp?: number } = {},
) {
  const nowSeconds = Math.floor(tessera.clock.now() / 1000);
  const { exp = nowSeconds + 240, ...rest } = claims;
  return new SignJWT({ ...rest, sub: bot.username, exp }).setProtectedHeader({ alg: "RS512" }).sign(bot.privateKey);
}

const podPath = "/login/pubkey/authenticate";
const relayPath = "/relay/pubkey/authenticate";

function assertRefused(response: TestResponse, reason: string) {
  assert.equal(response.status, 401, response.text);
  assert.equal(response.body.code, 401, "Symphony's error shape");
  assert.equal(response.body.reason, reason, response.text);
}

describe("key-pair login tokens are single use and name this server", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let bot: Bot;
  let other: Bot;

  const login = (path: string, token: string, on = tessera) => on.request(path, { body: { token } });
  const sessionsOf = async (who: Bot, on = tessera) =>
    Number(
      (
        await on.ctx.db
          .selectFrom("sessions")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("user_id", "=", who.userId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    bot = await addBot(tessera, adminToken, "replay-bot");
    other = await addBot(tessera, adminToken, "other-replay-bot");
  });
  after(() => tessera.close());

  it("opens one service session and one key-manager session with a Symphony-style token, never more", async () => {
    const token = createPubkeyJwt(bot.username, bot.privateKey, tessera.clock.now());
    const before = await sessionsOf(bot);
    assert.equal((await login(podPath, token)).status, 200);
    assert.equal((await login(relayPath, token)).status, 200, "the same token logs in on the key manager");
    assertRefused(await login(podPath, token), "key_pair_token_replayed");
    assertRefused(await login(relayPath, token), "key_pair_token_replayed");
    const parallel = await Promise.all([1, 2, 3, 4].map(() => login(podPath, token)));
    for (const response of parallel) assertRefused(response, "key_pair_token_replayed");
    assert.equal(await sessionsOf(bot), before + 2);
  });

  it("refuses concurrent first uses of one token but one", async () => {
    const token = await signToken(tessera, bot, { exp: Math.floor(tessera.clock.now() / 1000) + 200 });
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => login(podPath, token)));
    assert.equal(answers.filter((response) => response.status === 200).length, 1);
    for (const response of answers.filter((answer) => answer.status !== 200)) {
      assertRefused(response, "key_pair_token_replayed");
    }
  });

  it("treats a re-encoded signature as the same token", async () => {
    const token = await signToken(tessera, bot, { exp: Math.floor(tessera.clock.now() / 1000) + 180 });
    assert.equal((await login(podPath, token)).status, 200);
    const before = await sessionsOf(bot);
    // The last base64url character of a 256-byte signature carries 4 unused bits.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1) ?? "A");
    const variant = `${token.slice(0, -1)}${alphabet[(last & 0b110000) | (~last & 0b001111)]}`;
    assert.notEqual(variant, token);
    const response = await login(podPath, variant);
    assert.equal(response.status, 401, response.text);
    assert.equal(await sessionsOf(bot), before);
  });

  it("keys on jti when there is one, per service user", async () => {
    const nowSeconds = Math.floor(tessera.clock.now() / 1000);
    assert.equal((await login(podPath, await signToken(tessera, bot, { jti: "login-1" }))).status, 200);
    const sameJti = await signToken(tessera, bot, { jti: "login-1", exp: nowSeconds + 100 });
    assertRefused(await login(podPath, sameJti), "key_pair_token_replayed");
    assert.equal((await login(podPath, await signToken(tessera, bot, { jti: "login-2" }))).status, 200);
    // Another service user's jti of the same value is its own.
    assert.equal((await login(podPath, await signToken(tessera, other, { jti: "login-1" }))).status, 200);
    // Two tokens made in the same second differ by their jti: the SDK's logins never collide.
    for (let index = 0; index < 2; index++) {
      const token = createPubkeyJwt(bot.username, bot.privateKey, tessera.clock.now(), { jti: `sdk-${index}` });
      assert.equal((await login(podPath, token)).status, 200);
    }
  });

  it("audits a replay as login.failed with its reason", async () => {
    // A new minute: the refusals of the tests above used up this address's individually audited ones.
    await tessera.clock.advance(61_000);
    const token = await signToken(tessera, bot, { jti: "audited" });
    assert.equal((await login(podPath, token)).status, 200);
    const before = (await auditEventsOfType(tessera, "login.failed")).length;
    assertRefused(await login(podPath, token), "key_pair_token_replayed");
    const recorded = (await auditEventsOfType(tessera, "login.failed")).slice(before);
    assert.equal(recorded.length, 1);
    assert.deepEqual(recorded[0]?.data, {
      reason: "key_pair_token_replayed",
      method: "key_pair",
      username: bot.username,
    });
  });

  it("refuses an aud naming another server and accepts one naming this server's origin", async () => {
    const foreign = await signToken(tessera, bot, { aud: "https://some-other-pod.example" });
    assertRefused(await login(podPath, foreign), "key_pair_token_audience_mismatch");
    assertRefused(
      await login(relayPath, await signToken(tessera, bot, { aud: ["https://some-other-pod.example"] })),
      "key_pair_token_audience_mismatch",
    );
    assert.equal((await login(podPath, await signToken(tessera, bot, { aud: tessera.baseUrl }))).status, 200);
    const listed = await signToken(tessera, bot, { aud: ["https://some-other-pod.example", `${tessera.baseUrl}/`] });
    assert.equal((await login(relayPath, listed)).status, 200);
  });

  it("remembers a used token in the database: a restarted node refuses it, and the record goes once it expired", async () => {
    const token = await signToken(tessera, bot, { jti: "before-restart" });
    assert.equal((await login(podPath, token)).status, 200);
    tessera = await tessera.restart();
    assertRefused(await login(podPath, token), "key_pair_token_replayed");
    const stored = async () =>
      Number(
        (
          await tessera.ctx.db
            .selectFrom("key_pair_token_uses")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    assert.ok((await stored()) > 0);
    await tessera.clock.advanceSeconds(10 * 60);
    assert.equal(
      (await login(podPath, createPubkeyJwt(bot.username, bot.privateKey, tessera.clock.now()))).status,
      200,
    );
    assert.equal(await stored(), 1, "only the token just used is remembered");
  });

  it("refuses on a second node of the same PostgreSQL database a token used on the first", {
    skip: testStore !== "postgres",
  }, async () => {
    const second = await startTestInstance({
      clock: tessera.clock,
      env: { DATABASE_URL: tessera.ctx.config.databaseUrl ?? "" },
    });
    try {
      const token = await signToken(tessera, bot, { jti: "two-nodes" });
      assert.equal((await login(podPath, token)).status, 200);
      assertRefused(await login(podPath, token, second), "key_pair_token_replayed");
    } finally {
      await second.close();
    }
  });
});

describe("key-pair login audiences when the server's URL is configured", () => {
  let tessera: TestInstance;
  let bot: Bot;

  before(async () => {
    tessera = await startTestInstance({
      env: {
        TESSERA_PUBLIC_URL: "https://auth.example.test",
        TESSERA_KEY_PAIR_AUDIENCES: "https://pod.example.test, https://km.example.test/",
      },
    });
    bot = await addBot(tessera, await tessera.login(), "audience-bot");
  });
  after(() => tessera.close());

  it("accepts the public URL and the listed audiences, and then no longer the request's origin", async () => {
    for (const aud of ["https://auth.example.test", "https://pod.example.test/", "https://km.example.test"]) {
      const response = await tessera.request(podPath, { body: { token: await signToken(tessera, bot, { aud }) } });
      assert.equal(response.status, 200, `${aud}: ${response.text}`);
    }
    const origin = await tessera.request(podPath, {
      body: { token: await signToken(tessera, bot, { aud: tessera.baseUrl }) },
    });
    assertRefused(origin, "key_pair_token_audience_mismatch");
    const none = await tessera.request(podPath, { body: { token: await signToken(tessera, bot) } });
    assert.equal(none.status, 200, "a token without aud is still accepted");
  });
});
