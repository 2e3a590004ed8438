import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { TestResponse } from "@tessera/test-kit/http.ts";
import { type PostgresCluster, startPostgresCluster } from "@tessera/test-kit/postgres.ts";
import { type SpawnedServer, spawnServer } from "@tessera/test-kit/spawn-server.ts";
import { createTestDatabase, type TestDatabase, testStore } from "@tessera/test-kit/test-database.ts";
import pg from "pg";

const email = "owner@example.com";
const password = "outage correct horse staple";

function assertUnavailable(response: TestResponse, what: string): void {
  assert.equal(response.status, 503, `${what}: ${response.status} ${response.text}`);
  assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8", what);
  assert.equal(response.body.code, "service_unavailable", what);
  assert.equal(response.headers.get("retry-after"), "5", what);
}

// Stopping PostgreSQL needs a cluster of its own, so the other test files are not disturbed.
describe("PostgreSQL stops under load and comes back", { skip: testStore !== "postgres" }, () => {
  let cluster: PostgresCluster;
  let database: TestDatabase;
  let node: SpawnedServer;

  before(async () => {
    cluster = await startPostgresCluster();
    database = await createTestDatabase(cluster.url);
    node = await spawnServer({
      DATABASE_URL: database.url,
      TESSERA_BOOTSTRAP_ADMIN_EMAIL: email,
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD: password,
    });
  });
  after(async () => {
    await node?.stop();
    await cluster?.destroy();
  });

  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> => {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  it("answers 503 with Retry-After, fails /readyz, stays up, and resumes with nothing half-written", async () => {
    const login = await node.request("/user/authenticate", { body: { email, password } });
    assert.equal(login.status, 200, login.text);
    const token: string = login.body.token;
    // Several requests first, so the pool holds idle connections that the shutdown will break.
    await Promise.all([1, 2, 3, 4].map(() => node.request("/user/users/me", { token })));
    const [before] = await query<{ tokens: number; revoked: number; audits: number }>(
      `select (select count(*)::int from session_tokens) as tokens,
              (select count(*)::int from sessions where revoked_at is not null) as revoked,
              (select count(*)::int from audit_events) as audits`,
    );

    await cluster.stop();

    const load: Promise<[string, TestResponse]>[] = [];
    for (let round = 0; round < 8; round++) {
      load.push(node.request("/user/users/me", { token }).then((r) => ["GET /user/users/me", r]));
      load.push(node.request("/user/authenticate", { token }).then((r) => ["renewal", r]));
      load.push(node.request("/user/authenticate", { body: { email, password } }).then((r) => ["login", r]));
      load.push(node.request("/user/authenticate", { method: "DELETE", token }).then((r) => ["logout", r]));
      load.push(node.request("/readyz").then((r) => ["/readyz", r]));
    }
    for (const [what, response] of await Promise.all(load)) assertUnavailable(response, what);
    const health = await node.request("/healthz");
    assert.equal(health.status, 200);
    assert.ok(node.alive(), "the process stays up while PostgreSQL is down");

    await cluster.start();
    let ready = await node.request("/readyz");
    for (let attempt = 0; ready.status !== 200 && attempt < 100; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await node.request("/readyz");
    }
    assert.equal(ready.status, 200, "ready again without a restart");
    assert.ok(node.alive());

    // The renewals, logins and logouts that failed wrote nothing: the old token still works.
    const [afterOutage] = await query<{ tokens: number; revoked: number; audits: number }>(
      `select (select count(*)::int from session_tokens) as tokens,
              (select count(*)::int from sessions where revoked_at is not null) as revoked,
              (select count(*)::int from audit_events) as audits`,
    );
    assert.deepEqual(afterOutage, before);
    const me = await node.request("/user/users/me", { token });
    assert.equal(me.status, 200, me.text);
    const renewed = await node.request("/user/authenticate", { token });
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal((await node.request("/user/users/me", { token: renewed.body.token })).status, 200);
    assert.equal((await node.request("/user/authenticate", { body: { email, password } })).status, 200);
  });
});
