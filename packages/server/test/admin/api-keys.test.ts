import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  addMemberWithSession,
  addUser,
  assertProblem,
  auditEvents,
  createApiKey,
  createSecondOrg,
} from "@tessera/test-kit/admin.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { hashToken } from "../../src/crypto/tokens.ts";

describe("admin API keys", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let adminUserId: number;
  let keysPath: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    adminUserId = (await tessera.request("/user/users/me", { token: adminToken })).body.id;
    keysPath = `/admin/orgs/${tessera.orgId}/api-keys`;
  });
  after(() => tessera.close());

  it("lists keys with id, name, member, prefix and times, never the key or its hash", async () => {
    const member = await addUser(tessera, adminToken, { role: "member" });
    const apiKey = await createApiKey(tessera, adminToken, member.orgUserId);
    const response = await tessera.request(keysPath, { token: adminToken });
    assert.equal(response.status, 200);
    const listed = response.body.find((key: { orgUserId: number }) => key.orgUserId === member.orgUserId);
    assert.deepEqual(Object.keys(listed).sort(), [
      "createdAt",
      "id",
      "lastUsedAt",
      "name",
      "orgUserId",
      "prefix",
      "userId",
    ]);
    assert.equal(listed.name, "test key");
    assert.equal(listed.userId, member.id);
    assert.ok(apiKey.startsWith(listed.prefix) && listed.prefix.length < 16);
    assert.equal(listed.createdAt, Math.floor(tessera.clock.now() / 1000));
    assert.equal(listed.lastUsedAt, null);
    assert.ok(!response.text.includes(apiKey) && !response.text.includes(hashToken(apiKey)));

    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
    const used = (await tessera.request(keysPath, { token: adminToken })).body.find(
      (key: { id: number }) => key.id === listed.id,
    );
    assert.equal(used.lastUsedAt, Math.floor(tessera.clock.now() / 1000));
  });

  it("revokes a key: 204, it answers 401 on its next use, leaves the list, and the revocation is audited", async () => {
    const member = await addUser(tessera, adminToken, { role: "member" });
    const apiKey = await createApiKey(tessera, adminToken, member.orgUserId);
    assert.equal((await tessera.request("/user/users/me", { apiKey })).status, 200);
    const { id } = (await tessera.request(keysPath, { token: adminToken })).body.find(
      (key: { orgUserId: number }) => key.orgUserId === member.orgUserId,
    );
    const response = await tessera.request(`${keysPath}/${id}`, { method: "DELETE", token: adminToken });
    assert.equal(response.status, 204);
    assertProblem(await tessera.request("/user/users/me", { apiKey }), 401, "invalid_token");
    const listed = (await tessera.request(keysPath, { token: adminToken })).body;
    assert.ok(!listed.some((key: { id: number }) => key.id === id));

    const event = (await auditEvents(tessera, adminToken)).findLast(
      (candidate) => candidate.type === "api_key.revoked",
    );
    assert.equal(event?.actorUserId, adminUserId);
    assert.equal(event?.subjectUserId, member.id);
    assert.equal(event?.data.apiKeyId, id);
  });

  it("answers 404 not_found to an unknown key, an already revoked key and another org's key", async () => {
    const member = await addUser(tessera, adminToken, { role: "member" });
    await createApiKey(tessera, adminToken, member.orgUserId);
    const { id: revokedId } = (await tessera.request(keysPath, { token: adminToken })).body.find(
      (key: { orgUserId: number }) => key.orgUserId === member.orgUserId,
    );
    await tessera.request(`${keysPath}/${revokedId}`, { method: "DELETE", token: adminToken });

    const other = await createSecondOrg(tessera, adminToken);
    const otherMember = await addUser(tessera, other.token, { role: "member" }, other.orgId);
    const foreignKey = await createApiKey(tessera, other.token, otherMember.orgUserId);
    const foreignId = (await tessera.request(`/admin/orgs/${other.orgId}/api-keys`, { token: other.token })).body[0].id;

    for (const id of [999999, revokedId, foreignId]) {
      assertProblem(
        await tessera.request(`${keysPath}/${id}`, { method: "DELETE", token: adminToken }),
        404,
        "not_found",
      );
    }
    assert.equal((await tessera.request("/user/users/me", { apiKey: foreignKey })).status, 200);
  });

  it("refuses listing and revoking to members and auditors", async () => {
    for (const role of ["member", "auditor"] as const) {
      const caller = await addMemberWithSession(tessera, adminToken, role);
      assertProblem(await tessera.request(keysPath, { token: caller.token }), 403, "forbidden");
      assertProblem(
        await tessera.request(`${keysPath}/1`, { method: "DELETE", token: caller.token }),
        403,
        "forbidden",
      );
    }
  });

  it("lets an admin's API key call the admin API, and a key revoked through it stops at once", async () => {
    const admin = await addUser(tessera, adminToken, { role: "admin" });
    const adminKey = await createApiKey(tessera, adminToken, admin.orgUserId);
    const member = await addUser(tessera, adminToken, { role: "member" });
    const memberKey = await createApiKey(tessera, adminToken, member.orgUserId);
    const keys = await tessera.request(keysPath, { apiKey: adminKey });
    assert.equal(keys.status, 200);
    const memberKeyId = keys.body.find((key: { orgUserId: number }) => key.orgUserId === member.orgUserId).id;
    assert.equal(
      (await tessera.request(`${keysPath}/${memberKeyId}`, { method: "DELETE", apiKey: adminKey })).status,
      204,
    );
    assertProblem(await tessera.request("/user/users/me", { apiKey: memberKey }), 401, "invalid_token");
    const event = (await auditEvents(tessera, adminToken)).findLast(
      (candidate) => candidate.type === "api_key.revoked",
    );
    assert.equal(event?.actorUserId, admin.id);
  });
});
