import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type SpawnedServer, spawnServer } from "@tessera/test-kit/spawn-server.ts";
import { createTestDatabase, type TestDatabase, testStore } from "@tessera/test-kit/test-database.ts";
import pg from "pg";
import type { ChangeEvent } from "../../src/storage/change-feed.ts";
import { openStorage } from "../../src/storage/open-storage.ts";

const email = "owner@example.com";
const password = "multi node correct horse";

// Several nodes share one database only on PostgreSQL; the PostgreSQL run of the suite runs this.
describe("three nodes on one PostgreSQL database", { skip: testStore !== "postgres" }, () => {
  let database: TestDatabase;
  let sql: pg.Client;
  let nodes: SpawnedServer[] = [];
  let a: SpawnedServer;
  let b: SpawnedServer;
  let c: SpawnedServer;

  before(async () => {
    database = await createTestDatabase();
    sql = new pg.Client({ connectionString: database.url });
    sql.on("error", () => {});
    await sql.connect();
    // All three start at once on an empty database: migrations and bootstrap must not race.
    nodes = await Promise.all(
      [1, 2, 3].map(() =>
        spawnServer({
          DATABASE_URL: database.url,
          TESSERA_BOOTSTRAP_ADMIN_EMAIL: email,
          TESSERA_BOOTSTRAP_ADMIN_PASSWORD: password,
        }),
      ),
    );
    [a, b, c] = nodes as [SpawnedServer, SpawnedServer, SpawnedServer];
  });

  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await sql?.end();
    await database?.drop();
  });

  const login = async (node: SpawnedServer): Promise<string> => {
    const response = await node.request("/user/authenticate", { body: { email, password } });
    assert.equal(response.status, 200, response.text);
    return response.body.token;
  };

  it("starts concurrently on an empty database with exactly one bootstrap", async () => {
    const bootstrapped = nodes.filter((node) => node.output().includes("First start:"));
    assert.equal(bootstrapped.length, 1);
    const orgs = await sql.query("select count(*)::int as n from orgs");
    const users = await sql.query("select count(*)::int as n from users");
    assert.equal(orgs.rows[0].n, 1);
    assert.equal(users.rows[0].n, 1);
    for (const node of nodes) assert.equal((await node.request("/readyz")).status, 200);
  });

  it("logs in on A, renews on B, calls on C with the new token", async () => {
    const first = await login(a);
    const renewed = await b.request("/user/authenticate", { token: first });
    assert.equal(renewed.status, 200, renewed.text);
    assert.notEqual(renewed.body.token, first);
    const me = await c.request("/user/users/me", { token: renewed.body.token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.email, email);
    // A second renewal of the same token on another node inside the grace gets the same successor.
    const again = await c.request("/user/authenticate", { token: first });
    assert.equal(again.status, 200);
    assert.equal(again.body.token, renewed.body.token);
  });

  it("a logout on C is felt by A and B on their next request, for every token of the session", async () => {
    const first = await login(a);
    const renewed = await b.request("/user/authenticate", { token: first });
    const token: string = renewed.body.token;
    for (const node of nodes) assert.equal((await node.request("/user/users/me", { token })).status, 200);

    const logout = await c.request("/user/authenticate", { method: "DELETE", token });
    assert.equal(logout.status, 204);

    for (const node of [a, b, c]) {
      for (const presented of [token, first]) {
        const response = await node.request("/user/users/me", { token: presented });
        assert.equal(response.status, 401);
        assert.equal(response.body.code, "invalid_token");
      }
    }
  });

  it("a role change is felt on every node on the next request", async () => {
    const token = await login(a);
    const me = await b.request("/user/users/me", { token });
    const orgUserId: number = me.body.orgUserId;
    const createKey = (node: SpawnedServer) =>
      node.request("/user/apiKey", { token, body: { orgUserId, name: `key-${Date.now()}` } });
    assert.equal((await createKey(c)).status, 200);

    await sql.query("update memberships set role = 'member' where id = $1", [orgUserId]);
    for (const node of nodes) {
      const demoted = await node.request("/user/users/me", { token });
      assert.equal(demoted.status, 200);
      assert.equal(demoted.body.role, "member");
      const refused = await createKey(node);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.code, "forbidden");
    }

    await sql.query("update memberships set role = 'owner' where id = $1", [orgUserId]);
    for (const node of nodes) assert.equal((await createKey(node)).status, 200);
  });

  it("a deactivated membership is felt on every node on the next request", async () => {
    const token = await login(a);
    await sql.query("update memberships set active = 0");
    try {
      for (const node of nodes) {
        const response = await node.request("/user/users/me", { token });
        assert.equal(response.status, 401);
        assert.equal(response.body.code, "invalid_token");
      }
    } finally {
      await sql.query("update memberships set active = 1");
    }
  });

  it("announces a revocation on C on the change feed that every node listens to", async () => {
    const listener = await openStorage({ dataDir: "", databaseUrl: database.url, poolSize: 1 });
    try {
      const events: ChangeEvent[] = [];
      const heard = new Promise<ChangeEvent>((resolve) => {
        listener.changes.subscribe("session", (event) => {
          events.push(event);
          if (event.kind === "changed") resolve(event);
        });
      });
      while (!listener.changes.live) await new Promise((resolve) => setTimeout(resolve, 20));

      const token = await login(a);
      const me = await b.request("/user/users/me", { token });
      assert.equal(me.status, 200);
      const session = await sql.query(
        "select id from sessions where user_id = $1 and revoked_at is null order by id desc limit 1",
        [me.body.id],
      );
      assert.equal((await c.request("/user/authenticate", { method: "DELETE", token })).status, 204);

      assert.deepEqual(await heard, { kind: "changed", topic: "session", key: String(session.rows[0].id) });
      assert.ok(events.every((event) => event.kind === "changed"));
    } finally {
      await listener.close();
    }
  });
});
