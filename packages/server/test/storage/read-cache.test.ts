import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, createApiKey } from "@tessera/test-kit/admin.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import SQLite from "better-sqlite3";
import pg from "pg";
import { ExactReadCache } from "../../src/storage/read-cache.ts";

describe("ExactReadCache", () => {
  const rows = (id: number) => [`sessions:${id}`, `users:${id * 10}`] as const;

  it("serves a stored value without loading again, until a row it was read from changes", async () => {
    const cache = new ExactReadCache(10);
    let loads = 0;
    const load = async () => ({ id: 1, loads: ++loads });
    assert.deepEqual(await cache.read("a", load, () => rows(1)), { id: 1, loads: 1 });
    assert.deepEqual(await cache.read("a", load, () => rows(1)), { id: 1, loads: 1 });
    cache.rowChanged("users", 10);
    assert.deepEqual(await cache.read("a", load, () => rows(1)), { id: 1, loads: 2 });
  });

  it("drops only the entries read from the changed row", async () => {
    const cache = new ExactReadCache(10);
    await cache.read(
      "one",
      async () => 1,
      () => rows(1),
    );
    await cache.read(
      "two",
      async () => 2,
      () => rows(2),
    );
    cache.rowChanged("sessions", 1);
    assert.equal(cache.size, 1);
    assert.equal(
      await cache.read(
        "two",
        async () => 99,
        () => rows(2),
      ),
      2,
    );
  });

  it("does not store a value whose load overlapped a change, since it may predate it", async () => {
    const cache = new ExactReadCache(10);
    const value = await cache.read(
      "a",
      async () => {
        cache.rowChanged("orgs", 7);
        return "read before the change";
      },
      () => rows(1),
    );
    assert.equal(value, "read before the change");
    assert.equal(cache.size, 0);
    assert.equal(
      await cache.read(
        "a",
        async () => "fresh",
        () => rows(1),
      ),
      "fresh",
    );
  });

  it("stores nothing for a missing row, and clears on a change it cannot attribute", async () => {
    const cache = new ExactReadCache(10);
    assert.equal(
      await cache.read(
        "missing",
        async () => undefined,
        () => rows(1),
      ),
      undefined,
    );
    assert.equal(cache.size, 0);
    await cache.read(
      "a",
      async () => 1,
      () => rows(1),
    );
    cache.clear();
    assert.equal(cache.size, 0);
  });

  it("holds at most its capacity, dropping the oldest entry first", async () => {
    const cache = new ExactReadCache(2);
    for (const key of [1, 2, 3])
      await cache.read(
        `k${key}`,
        async () => key,
        () => rows(key),
      );
    assert.equal(cache.size, 2);
    assert.equal(
      await cache.read(
        "k1",
        async () => -1,
        () => rows(1),
      ),
      -1,
      "k1 was evicted",
    );
    assert.equal(
      await cache.read(
        "k3",
        async () => -3,
        () => rows(3),
      ),
      3,
      "k3 stayed",
    );
  });
});

/**
 * contract §1: a node's cache never outlives a change. The changes here are made as an operator
 * would by hand, on a connection of their own (the sqlite3 shell, psql), not through Tessera.
 */
describe("changes made outside Tessera are felt on the next request", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let byHand: (text: string, values: unknown[]) => Promise<void>;
  let closeByHand: () => Promise<void>;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    const databaseUrl = tessera.ctx.config.databaseUrl;
    if (databaseUrl) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      byHand = async (text, values) => {
        let index = 0;
        await client.query(
          text.replace(/\?/g, () => `$${++index}`),
          values,
        );
      };
      closeByHand = () => client.end();
    } else {
      const connection = new SQLite(join(tessera.dataDir, "tessera.db"));
      connection.pragma("busy_timeout = 5000");
      byHand = async (text, values) => {
        connection.prepare(text).run(...values);
      };
      closeByHand = async () => {
        connection.close();
      };
    }
  });
  after(async () => {
    await closeByHand();
    await tessera.close();
  });

  /** Calls often enough that a cached lookup would be the one answering. */
  async function warm(options: { token?: string; apiKey?: string }): Promise<void> {
    for (let call = 0; call < 3; call++) {
      assert.equal((await tessera.request("/user/users/me", options)).status, 200);
    }
  }

  it("a role changed by hand: the next admin call is 403 and /user/users/me shows the new role", async () => {
    const admin = await addMemberWithSession(tessera, adminToken, "admin");
    await warm({ token: admin.token });
    assert.equal((await tessera.request(`/admin/orgs/${tessera.orgId}/users`, { token: admin.token })).status, 200);
    await byHand("update memberships set role = ? where id = ?", ["member", admin.orgUserId]);
    assertProblem(
      await tessera.request(`/admin/orgs/${tessera.orgId}/users`, { token: admin.token }),
      403,
      "forbidden",
    );
    assert.equal((await tessera.request("/user/users/me", { token: admin.token })).body.role, "member");
  });

  it("a session revoked by hand answers 401 on the next request", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    await warm({ token: member.token });
    await byHand("update sessions set revoked_at = ? where user_id = ?", [tessera.clock.now(), member.id]);
    assertProblem(await tessera.request("/user/users/me", { token: member.token }), 401, "invalid_token");
  });

  it("a user deactivated by hand loses both session and API key on the next request", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const apiKey = await createApiKey(tessera, adminToken, member.orgUserId);
    await warm({ token: member.token });
    await warm({ apiKey });
    await byHand("update users set active = 0 where id = ?", [member.id]);
    assertProblem(await tessera.request("/user/users/me", { token: member.token }), 401, "invalid_token");
    assertProblem(await tessera.request("/user/users/me", { apiKey }), 401, "invalid_token");
  });

  it("a password policy inserted by hand changes the password expiry /user/users/me reports", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    await warm({ token: member.token });
    assert.equal((await tessera.request("/user/users/me", { token: member.token })).body.passwordExpiresAt, null);
    await byHand(
      "insert into password_policies (org_id, min_length, max_age_days, history_count, max_failed_attempts, lockout_minutes) values (?, 12, 30, 5, 5, 15)",
      [tessera.orgId],
    );
    const me = await tessera.request("/user/users/me", { token: member.token });
    assert.equal(typeof me.body.passwordExpiresAt, "number");
  });

  it("a session policy inserted by hand sets the window of the next renewal", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    const first = await tessera.request("/user/authenticate", { token: member.token });
    assert.equal(first.body.expiresIn, 900);
    await byHand(
      "insert into session_policies (org_id, user_idle_seconds, user_absolute_seconds, service_session_seconds, renew_grace_seconds) values (?, 300, 86400, 86400, 30)",
      [tessera.orgId],
    );
    const second = await tessera.request("/user/authenticate", { token: first.body.token });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.expiresIn, 300);
  });

  it("an org renamed by hand is named anew on the next request", async () => {
    const member = await addMemberWithSession(tessera, adminToken, "member");
    await warm({ token: member.token });
    await byHand("update orgs set name = ? where id = ?", ["Renamed by hand", tessera.orgId]);
    const me = await tessera.request("/user/users/me", { token: member.token });
    assert.equal(me.body.currentOrg.name, "Renamed by hand");
  });
});
