import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, assertProblem, createApiKey } from "@tessera/test-kit/admin.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
type Listed = any;

describe("owners' sessions and API keys are an owner's to revoke", () => {
  let tessera: TestInstance;
  let ownerToken: string;
  let sessionsPath: string;
  before(async () => {
    tessera = await startTestInstance();
    // The bootstrap admin owns the bootstrap org.
    ownerToken = await tessera.login();
    sessionsPath = `/admin/orgs/${tessera.orgId}/sessions`;
  });
  after(() => tessera.close());

  async function isAlive(token: string, header: "token" | "apiKey" = "token"): Promise<boolean> {
    const status = (await tessera.request("/user/users/me", { [header]: token })).status;
    assert.ok(status === 200 || status === 401, `unexpected ${status}`);
    return status === 200;
  }

  async function sessionsOf(userId: number): Promise<Listed[]> {
    const response = await tessera.request(`${sessionsPath}?userId=${userId}`, { token: ownerToken });
    assert.equal(response.status, 200, response.text);
    return response.body;
  }

  it("refuses an admin revoking an owner's session, all of an owner's sessions, or an owner's API key", async () => {
    const admin = await addMemberWithSession(tessera, ownerToken, "admin");
    const owner = await addMemberWithSession(tessera, ownerToken, "owner");
    const ownerKey = await createApiKey(tessera, ownerToken, owner.orgUserId);
    const [session] = await sessionsOf(owner.id);

    // Listing stays open to admins.
    assert.equal((await tessera.request(sessionsPath, { token: admin.token })).status, 200);
    const keys = await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys`, { token: admin.token });
    assert.equal(keys.status, 200);
    const keyId = keys.body.find((key: Listed) => key.orgUserId === owner.orgUserId).id;

    assertProblem(
      await tessera.request(`${sessionsPath}/${session.id}`, { method: "DELETE", token: admin.token }),
      403,
      "forbidden",
    );
    assertProblem(
      await tessera.request(`/admin/orgs/${tessera.orgId}/users/${owner.id}/sessions`, {
        method: "DELETE",
        token: admin.token,
      }),
      403,
      "forbidden",
    );
    assertProblem(
      await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys/${keyId}`, { method: "DELETE", token: admin.token }),
      403,
      "forbidden",
    );
    assert.equal(await isAlive(owner.token), true);
    assert.equal(await isAlive(ownerKey, "apiKey"), true);

    // An owner may do all three.
    const revokedKey = await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys/${keyId}`, {
      method: "DELETE",
      token: ownerToken,
    });
    assert.equal(revokedKey.status, 204);
    assert.equal(await isAlive(ownerKey, "apiKey"), false);
    const revokedOne = await tessera.request(`${sessionsPath}/${session.id}`, { method: "DELETE", token: ownerToken });
    assert.equal(revokedOne.status, 204);
    assert.equal(await isAlive(owner.token), false);
  });

  it("lets an admin's org-wide revocation end everyone's sessions but the owners'", async () => {
    const admin = await addMemberWithSession(tessera, ownerToken, "admin");
    const member = await addMemberWithSession(tessera, ownerToken, "member");
    const owner = await addMemberWithSession(tessera, ownerToken, "owner");
    const response = await tessera.request(sessionsPath, { method: "DELETE", token: admin.token });
    assert.equal(response.status, 204);
    assert.equal(await isAlive(member.token), false);
    assert.equal(await isAlive(admin.token), false);
    assert.equal(await isAlive(owner.token), true);
    assert.equal(await isAlive(ownerToken), true);

    // An owner's org-wide revocation ends every session, owners' included.
    const byOwner = await tessera.request(sessionsPath, { method: "DELETE", token: ownerToken });
    assert.equal(byOwner.status, 204);
    assert.equal(await isAlive(owner.token), false);
    assert.equal(await isAlive(ownerToken), false);
    ownerToken = await tessera.login();
  });

  it("still lets an admin revoke an admin's or a member's key and sessions", async () => {
    const admin = await addMemberWithSession(tessera, ownerToken, "admin");
    const other = await addMemberWithSession(tessera, ownerToken, "admin");
    const key = await createApiKey(tessera, ownerToken, other.orgUserId);
    const keys = await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys`, { token: admin.token });
    const keyId = keys.body.find((row: Listed) => row.orgUserId === other.orgUserId).id;
    const revokedKey = await tessera.request(`/admin/orgs/${tessera.orgId}/api-keys/${keyId}`, {
      method: "DELETE",
      token: admin.token,
    });
    assert.equal(revokedKey.status, 204);
    assert.equal(await isAlive(key, "apiKey"), false);
    const revoked = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${other.id}/sessions`, {
      method: "DELETE",
      token: admin.token,
    });
    assert.equal(revoked.status, 204);
    assert.equal(await isAlive(other.token), false);
  });
});
