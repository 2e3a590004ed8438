import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  countRows,
  createMember,
  createOrg,
  setMembershipActive,
  setMembershipRole,
  setUserActive,
} from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { testStore } from "@tessera/test-kit/test-database.ts";
import { type Kysely, sql } from "kysely";
import { hashToken } from "../../src/crypto/tokens.ts";
import type { Database } from "../../src/storage/schema.ts";

/** Every cell of every table, read through the instance's own connection (either store). */
async function everyStoredValue(db: Kysely<Database>): Promise<string[]> {
  const values: string[] = [];
  for (const table of await db.introspection.getTables()) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table.name)}`.execute(db);
    for (const row of rows.rows) for (const value of Object.values(row)) values.push(String(value));
  }
  return values;
}

/** The database file and its WAL as raw bytes: a secret must not appear even in free pages. */
function rawDatabaseBytes(dataDir: string): Buffer {
  return Buffer.concat(
    readdirSync(dataDir)
      .filter((file) => file.startsWith("tessera.db"))
      .map((file) => readFileSync(join(dataDir, file))),
  );
}

describe("POST /user/apiKey and x-api-key", () => {
  let tessera: TestInstance;
  let ownerToken: string;
  before(async () => {
    tessera = await startTestInstance();
    ownerToken = await tessera.login();
  });
  after(() => tessera.close());

  const createKey = (token: string, orgUserId: number, name = "integration") =>
    tessera.request("/user/apiKey", { token, body: { orgUserId, name } });

  it("lets an owner create a key (tsk_) that is shown once and authenticates as that org user", async () => {
    const member = await createMember(tessera);
    const created = await createKey(ownerToken, member.membershipId, "nightly export");
    assert.equal(created.status, 200);
    assert.match(created.body.apiKey, /^tsk_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.name, "nightly export");
    assert.equal(created.body.orgUserId, member.membershipId);
    assert.equal(typeof created.body.id, "number");

    const me = await tessera.request("/user/users/me", { apiKey: created.body.apiKey });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, member.userId);
    assert.equal(me.body.authenticatedWith, "apiKey");
    assert.equal(me.body.role, "member");
    assert.equal(me.body.sessionExpiresAt, null);
    assert.deepEqual(me.body.currentOrg, { id: tessera.orgId, name: "Default" });

    const stored = await tessera.ctx.db
      .selectFrom("api_keys")
      .selectAll()
      .where("id", "=", created.body.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.key_hash, hashToken(created.body.apiKey));
    const audit = await tessera.ctx.db
      .selectFrom("audit_events")
      .select("data")
      .where("type", "=", "api_key.created")
      .execute();
    assert.equal(audit.length, 1);
    assert.ok(!audit[0]?.data.includes(created.body.apiKey));
  });

  it("keeps only hashes of keys and tokens: no raw secret anywhere in the database", async () => {
    const member = await createMember(tessera);
    const token = await tessera.login(member.email, member.password, tessera.orgId);
    const renewed = (await tessera.request("/user/authenticate", { token })).body.token as string;
    const apiKey = (await createKey(ownerToken, member.membershipId)).body.apiKey as string;
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
    const secrets = [ownerToken, token, renewed, apiKey, member.password];
    // The part after the visible prefix kept for admins' lists.
    const secretTails = [token, renewed, apiKey, ownerToken].map((secret) => secret.slice(12));

    const values = await everyStoredValue(tessera.ctx.db);
    for (const secret of [...secrets, ...secretTails]) {
      assert.ok(!values.some((value) => value.includes(secret)), "a secret is stored in a table");
    }
    // On SQLite, also the raw file and its WAL: a secret must not survive even in free pages.
    if (testStore === "sqlite") {
      const bytes = rawDatabaseBytes(tessera.dataDir);
      for (const secret of [...secrets, ...secretTails]) {
        assert.equal(bytes.indexOf(secret), -1, "a secret is in the database file");
      }
    }
  });

  it("refuses a member: 403 forbidden, nothing written", async () => {
    const member = await createMember(tessera);
    const token = await tessera.login(member.email, member.password, tessera.orgId);
    const before = await countRows(tessera);
    const response = await createKey(token, member.membershipId);
    assert.equal(response.status, 403);
    assert.equal(response.body.code, "forbidden");
    assert.deepEqual(await countRows(tessera), before);
  });

  it("answers 404 not_found for an org user of another org, nothing written", async () => {
    const otherOrg = await createOrg(tessera);
    const stranger = await createMember(tessera, { orgId: otherOrg });
    const before = await countRows(tessera);
    for (const orgUserId of [stranger.membershipId, 999_999]) {
      const response = await createKey(ownerToken, orgUserId);
      assert.equal(response.status, 404);
      assert.equal(response.body.code, "not_found");
    }
    assert.deepEqual(await countRows(tessera), before);
  });

  it("lets an admin act, but not mint a key that acts as an owner", async () => {
    const admin = await createMember(tessera, { role: "admin" });
    const owner = await createMember(tessera, { role: "owner" });
    const member = await createMember(tessera);
    const token = await tessera.login(admin.email, admin.password, tessera.orgId);
    assert.equal((await createKey(token, member.membershipId)).status, 200);
    const response = await createKey(token, owner.membershipId);
    assert.equal(response.status, 403);
    assert.equal(response.body.code, "forbidden");
  });

  it("acts with the org user's current rights: demotion, deactivation and revocation are felt at once", async () => {
    const admin = await createMember(tessera, { role: "admin" });
    const member = await createMember(tessera);
    const adminKey = (await createKey(ownerToken, admin.membershipId)).body.apiKey as string;
    const viaKey = () =>
      tessera.request("/user/apiKey", { apiKey: adminKey, body: { orgUserId: member.membershipId, name: "k" } });

    assert.equal((await viaKey()).status, 200);
    await setMembershipRole(tessera, admin.membershipId, "member");
    const demoted = await viaKey();
    assert.equal(demoted.status, 403);
    assert.equal(demoted.body.code, "forbidden");
    await setMembershipRole(tessera, admin.membershipId, "admin");
    assert.equal((await viaKey()).status, 200);

    await setMembershipActive(tessera, admin.membershipId, false);
    const inactive = await tessera.request("/user/users/me", { apiKey: adminKey });
    assert.equal(inactive.status, 401);
    assert.equal(inactive.body.code, "invalid_token");
    await setMembershipActive(tessera, admin.membershipId, true);

    await setUserActive(tessera, admin.userId, false);
    assert.equal((await tessera.request("/user/users/me", { apiKey: adminKey })).status, 401);
    await setUserActive(tessera, admin.userId, true);
    assert.equal((await tessera.request("/user/users/me", { apiKey: adminKey })).status, 200);

    await tessera.ctx.db
      .updateTable("api_keys")
      .set({ revoked_at: tessera.clock.now() })
      .where("key_hash", "=", hashToken(adminKey))
      .execute();
    const revoked = await tessera.request("/user/users/me", { apiKey: adminKey });
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.code, "invalid_token");
    assert.match(revoked.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
  });

  it("never expires with time", async () => {
    const member = await createMember(tessera);
    const apiKey = (await createKey(ownerToken, member.membershipId)).body.apiKey as string;
    await tessera.clock.advanceSeconds(400 * 86_400);
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
  });

  it("cannot be logged out like a session: DELETE /user/authenticate is 400 and the key keeps working", async () => {
    const member = await createMember(tessera);
    // A fresh owner session: an earlier test moved the clock past the first one.
    const apiKey = (await createKey(await tessera.login(), member.membershipId)).body.apiKey as string;
    const logout = await tessera.request("/user/authenticate", { method: "DELETE", apiKey });
    assert.equal(logout.status, 400, logout.text);
    assert.equal(logout.body.code, "invalid_request");
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
  });

  it("rejects garbage and unknown keys with 401 invalid_token", async () => {
    for (const apiKey of [`tsk_${"B".repeat(43)}`, "tsk_short", `tsu_${"C".repeat(43)}`, "not a key at all"]) {
      const response = await tessera.request("/user/users/me", { apiKey });
      assert.equal(response.status, 401, apiKey);
      assert.equal(response.body.code, "invalid_token");
    }
  });
});
