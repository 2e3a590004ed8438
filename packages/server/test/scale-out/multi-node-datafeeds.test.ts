import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createPubkeyJwt } from "@tessera/client";
import { addUser as addMember } from "@tessera/test-kit/admin.ts";
import { type AgentTokens, addBot, agentLogin, createFeed, readFeed } from "@tessera/test-kit/agent.ts";
import { startTestInstance, type TestInstance, untilChangeFeedLive } from "@tessera/test-kit/instance.ts";
import { type SpawnedServer, spawnServer } from "@tessera/test-kit/spawn-server.ts";
import { TestClock } from "@tessera/test-kit/test-clock.ts";
import { createTestDatabase, type TestDatabase, testStore } from "@tessera/test-kit/test-database.ts";

const email = "feeds-owner@example.com";
const password = "multi node datafeeds horse";

// Two real `tessera serve` processes on one PostgreSQL database (the PostgreSQL run of the suite).
describe("datafeeds across nodes on one PostgreSQL database", { skip: testStore !== "postgres" }, () => {
  let database: TestDatabase;
  let nodes: SpawnedServer[] = [];
  let a: SpawnedServer;
  let b: SpawnedServer;
  let adminToken = "";
  let orgId = 0;
  let tokens: AgentTokens;

  before(async () => {
    database = await createTestDatabase();
    nodes = await Promise.all(
      [1, 2].map(() =>
        spawnServer({
          DATABASE_URL: database.url,
          TESSERA_BOOTSTRAP_ADMIN_EMAIL: email,
          TESSERA_BOOTSTRAP_ADMIN_PASSWORD: password,
        }),
      ),
    );
    [a, b] = nodes as [SpawnedServer, SpawnedServer];
    const login = await a.request("/user/authenticate", { body: { email, password } });
    assert.equal(login.status, 200, login.text);
    adminToken = login.body.token;
    orgId = login.body.orgId;

    // An auditor service user with a registered key: it reads the whole org's events.
    const bot = await a.request(`/admin/orgs/${orgId}/users`, {
      token: adminToken,
      body: { email: "feeds-bot@example.com", kind: "service", username: "feeds-bot", role: "auditor" },
    });
    assert.equal(bot.status, 201, bot.text);
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const key = await b.request(`/admin/orgs/${orgId}/users/${bot.body.id}/rsa-keys`, {
      token: adminToken,
      body: { publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString() },
    });
    assert.ok(key.status === 200 || key.status === 201, key.text);
    const privateKey = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const session = await a.request("/login/pubkey/authenticate", {
      body: { token: createPubkeyJwt("feeds-bot", privateKey, Date.now()) },
    });
    const keyManager = await b.request("/relay/pubkey/authenticate", {
      body: { token: createPubkeyJwt("feeds-bot", privateKey, Date.now()) },
    });
    assert.equal(session.status, 200, session.text);
    assert.equal(keyManager.status, 200, keyManager.text);
    tokens = { sessionToken: session.body.token, keyManagerToken: keyManager.body.token };
  });

  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await database?.drop();
  });

  const agent = (node: SpawnedServer, path: string, body?: unknown) =>
    node.request(path, {
      ...(body === undefined ? {} : { body }),
      headers: { sessionToken: tokens.sessionToken, keyManagerToken: tokens.keyManagerToken },
    });

  const addUser = async (node: SpawnedServer, label: string): Promise<number> => {
    const created = await node.request(`/admin/orgs/${orgId}/users`, {
      token: adminToken,
      body: { email: `${label}@example.com`, role: "member", password: "a long enough member password" },
    });
    assert.equal(created.status, 201, created.text);
    return created.body.id;
  };

  it("a feed read alternately through both nodes loses nothing and repeats nothing", async () => {
    const created = await agent(a, "/agent/v5/datafeeds", {});
    assert.equal(created.status, 201, created.text);
    const feedId: string = created.body.id;
    const expected: number[] = [];
    for (let i = 0; i < 8; i++) expected.push(await addUser(i % 2 === 0 ? a : b, `alternate-${i}`));

    const seen: number[] = [];
    let ackId = "";
    for (let read = 0; seen.length < expected.length && read < 20; read++) {
      const node = read % 2 === 0 ? b : a;
      // Each read carries the previous answer's ackId to the OTHER node.
      const answer = await agent(node, `/agent/v5/datafeeds/${feedId}/read`, { ackId });
      assert.equal(answer.status, 200, answer.text);
      ackId = answer.body.ackId;
      for (const event of answer.body.events) {
        if (event.type === "USER_CREATED") seen.push(event.payload.subjectUserId);
      }
      // Writes land between reads too, through either node.
      if (read === 0) expected.push(await addUser(a, "between-reads"));
    }
    assert.deepEqual(seen, expected);
  });
});

// Two nodes in this process on one PostgreSQL database, each with its own connections and LISTEN,
// sharing one test clock that the test never moves: neither the deadline nor a re-check can
// answer a read on A, only the wake-up that B's write sends through PostgreSQL.
describe("a datafeed long-poll across nodes on one PostgreSQL database", { skip: testStore !== "postgres" }, () => {
  const longPollMs = 30_000;
  let database: TestDatabase;
  let a: TestInstance;
  let b: TestInstance;

  before(async () => {
    database = await createTestDatabase();
    const shared = {
      clock: new TestClock(),
      env: { DATABASE_URL: database.url },
      datafeedTiming: { longPollMs, redeliveryMs: 30_000, safetyRecheckMs: 60_000 },
    };
    a = await startTestInstance(shared);
    b = await startTestInstance(shared);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  // Without the wake-up the read never answers, and the test times out.
  it("a long-poll on one node wakes for an event written on another", { timeout: 15_000 }, async () => {
    const adminToken = await a.login();
    const tokens = await agentLogin(a, await addBot(a, adminToken, "auditor"));
    const feedId = await createFeed(b, tokens);
    // A hears every notification from here on.
    await untilChangeFeedLive(a.storage);
    const reading = readFeed(a, tokens, feedId, "");
    await a.clock.whenTimerPending();
    assert.equal(a.clock.nextDue, a.clock.now() + longPollMs, "A's read found nothing and waits for its deadline");

    const user = await addMember(b, adminToken, { role: "member" });
    const answer = await reading;
    const types = answer.events.map((event) => [
      event.type,
      (event.payload as { subjectUserId: number }).subjectUserId,
    ]);
    assert.deepEqual(types, [["USER_CREATED", user.id]]);
  });
});
