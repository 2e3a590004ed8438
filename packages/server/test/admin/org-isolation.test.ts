import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertProblem, auditEvents } from "@tessera/test-kit/admin.ts";
import {
  addMembership,
  countRows,
  createMember,
  createOrg,
  createServiceUser,
  memberPassword,
  setPasswordPolicy,
  uniqueEmail,
} from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/**
 * An org governs only the accounts it owns: another org's admin may invite an existing account,
 * answered as a creation is, and the membership does nothing until the account accepts it.
 */
describe("org isolation: accounts of other orgs are invited, never claimed", () => {
  let tessera: TestInstance;
  /** Org 2 and its owner, an ordinary admin (not a system admin): the attacker of the review. */
  let org2: number;
  let org2Token: string;
  let org2Users: string;

  const invite = (body: Record<string, unknown>, token = org2Token) =>
    tessera.request(org2Users, { token, body: { role: "member", ...body } });
  const loginStatus = async (email: string, password: string, selectedOrg?: number) =>
    (await tessera.request("/user/authenticate", { body: { email, password, selectedOrg } })).status;

  before(async () => {
    tessera = await startTestInstance();
    org2 = await createOrg(tessera);
    const owner = await createMember(tessera, { orgId: org2, role: "owner" });
    org2Token = await tessera.login(owner.email, memberPassword, org2);
    org2Users = `/admin/orgs/${org2}/users`;
  });
  after(() => tessera.close());

  describe("POST /admin/orgs/{orgId}/users with another org's email", () => {
    it("answers exactly as for an unknown email (201, same fields) and shows nothing of the account", async () => {
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      await tessera.ctx.db
        .updateTable("users")
        .set({ display_name: "Erin Private" })
        .where("id", "=", erin.userId)
        .execute();
      const password = "an attacker's chosen password";
      const invited = await invite({ email: erin.email.toUpperCase(), password, displayName: "Erin" });
      const created = await invite({ email: uniqueEmail("unknown"), password, displayName: "Erin" });
      assert.equal(invited.status, 201, invited.text);
      assert.equal(invited.status, created.status);
      assert.deepEqual(Object.keys(invited.body).sort(), Object.keys(created.body).sort());
      assert.equal(invited.headers.get("content-type"), created.headers.get("content-type"));
      assert.equal(invited.body.email, erin.email);
      assert.equal(invited.body.kind, "person");
      assert.equal(invited.body.username, null);
      assert.equal(invited.body.active, false, "inactive until erin accepts");
      assert.ok(!invited.text.includes("Erin Private"), invited.text);
      const listed = (await tessera.request(org2Users, { token: org2Token })).body;
      assert.ok(!JSON.stringify(listed).includes("Erin Private"));

      // The attacker's password was never set: erin's own still works, the chosen one does not.
      assert.equal(await loginStatus(erin.email, memberPassword, tessera.orgId), 200);
      assert.equal(await loginStatus(erin.email, password, tessera.orgId), 401);
      const [event] = (await auditEvents(tessera, org2Token, org2)).filter(
        (candidate) => candidate.type === "membership.invited" && candidate.subjectUserId === erin.userId,
      );
      assert.equal(event?.data.role, "member");
    });

    it("gives org 2 no access and no lockout lever over erin (also the system admin)", async () => {
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      const admin = await tessera.ctx.db
        .selectFrom("users")
        .select("id")
        .where("email", "=", adminEmail)
        .executeTakeFirstOrThrow();
      for (const [email, password, userId] of [
        [erin.email, memberPassword, erin.userId],
        [adminEmail, adminPassword, admin.id],
      ] as const) {
        const invited = await invite({ email, role: "admin" });
        assert.equal(invited.status, 201, invited.text);
        await setPasswordPolicy(tessera, org2, { maxFailedAttempts: 1, lockoutMinutes: 10080 });

        // Neither her password nor a session opens org 2, and the org-2 admin cannot switch it on.
        assertProblem(
          await tessera.request("/user/authenticate", { body: { email, password, selectedOrg: org2 } }),
          403,
          "org_access_denied",
        );
        assertProblem(
          await tessera.request(`${org2Users}/${userId}`, {
            method: "PATCH",
            token: org2Token,
            body: { active: true },
          }),
          409,
          "invitation_pending",
        );
        assertProblem(
          await tessera.request(`${org2Users}/${userId}`, {
            method: "PATCH",
            token: org2Token,
            body: { role: "member" },
          }),
          409,
          "invitation_pending",
        );
        assertProblem(
          await tessera.request("/user/apiKey", {
            token: org2Token,
            body: { orgUserId: invited.body.orgUserId, name: "k" },
          }),
          404,
          "not_found",
        );

        // One wrong password naming org 2 under org 2's harshest policy locks nothing.
        await tessera.request("/user/authenticate", {
          body: { email, password: "wrong password 123", selectedOrg: org2 },
        });
        const home = await tessera.request("/user/authenticate", {
          body: { email, password, selectedOrg: tessera.orgId },
        });
        assert.equal(home.status, 200, home.text);
        assert.equal(home.headers.get("retry-after"), null);
      }
    });

    it("answers 409 conflict to an account that is already a member or invited here, writing nothing", async () => {
      const member = await createMember(tessera, { orgId: org2 });
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      assert.equal((await invite({ email: erin.email })).status, 201);
      const before = await countRows(tessera);
      for (const email of [member.email, erin.email]) assertProblem(await invite({ email }), 409, "conflict");
      assert.deepEqual(await countRows(tessera), before);
    });

    it("refuses another org's service user by email or username with one answer, and never links it", async () => {
      await createServiceUser(tessera, { orgId: tessera.orgId, username: "iso-bot1" });
      const botEmail = "iso-bot1@service.example.com";
      const before = await countRows(tessera);
      const byEmail = await invite({ email: botEmail, kind: "service", username: "iso-bot1", role: "service" });
      const byOtherName = await invite({ email: botEmail, kind: "service", username: "iso-fresh", role: "service" });
      const byName = await invite({
        email: uniqueEmail("svc"),
        kind: "service",
        username: "iso-bot1",
        role: "service",
      });
      for (const response of [byEmail, byOtherName, byName]) assertProblem(response, 409, "conflict");
      assert.equal(byEmail.body.detail, byName.body.detail, "the same words whichever is taken");
      assert.equal(byOtherName.body.detail, byName.body.detail);
      assert.deepEqual(await countRows(tessera), before);

      // As a person, the bot's email looks like any invitation, and shows nothing of the bot.
      const asPerson = await invite({ email: botEmail });
      assert.equal(asPerson.status, 201, asPerson.text);
      assert.equal(asPerson.body.kind, "person");
      assert.equal(asPerson.body.username, null);
      assert.equal(asPerson.body.active, false);
    });
  });

  describe("GET /user/invitations, POST /user/invitations/{id}/accept|decline", () => {
    it("lets the account accept with its own session: the membership becomes active, audited", async () => {
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      const invited = await invite({ email: erin.email, role: "auditor" });
      const erinToken = await tessera.login(erin.email, memberPassword, tessera.orgId);

      assert.deepEqual(
        (await tessera.request("/user/orgs", { token: erinToken })).body.map((org: { id: number }) => org.id),
        [tessera.orgId],
      );
      const listed = await tessera.request("/user/invitations", { token: erinToken });
      assert.equal(listed.status, 200, listed.text);
      assert.equal(listed.body.length, 1);
      assert.equal(listed.body[0].id, invited.body.orgUserId);
      assert.equal(listed.body[0].org.id, org2);
      assert.equal(listed.body[0].role, "auditor");

      const accepted = await tessera.request(`/user/invitations/${invited.body.orgUserId}/accept`, {
        method: "POST",
        token: erinToken,
      });
      assert.equal(accepted.status, 200, accepted.text);
      assert.deepEqual(accepted.body, { id: org2, name: accepted.body.name, role: "auditor" });
      assert.deepEqual((await tessera.request("/user/invitations", { token: erinToken })).body, []);

      const org2Session = await tessera.login(erin.email, memberPassword, org2);
      assert.equal((await tessera.request("/user/users/me", { token: org2Session })).body.role, "auditor");
      const row = (await tessera.request(org2Users, { token: org2Token })).body.find(
        (user: { id: number }) => user.id === erin.userId,
      );
      assert.equal(row.active, true);
      const types = (await auditEvents(tessera, org2Token, org2))
        .filter((event) => event.subjectUserId === erin.userId)
        .map((event) => event.type);
      assert.deepEqual(types.slice(0, 2), ["membership.invited", "membership.accepted"]);
      assertProblem(
        await tessera.request(`/user/invitations/${invited.body.orgUserId}/accept`, {
          method: "POST",
          token: erinToken,
        }),
        404,
        "not_found",
      );
    });

    it("lets the account decline: the invitation is gone and org 2 may invite again", async () => {
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      const invited = await invite({ email: erin.email });
      const erinToken = await tessera.login(erin.email, memberPassword, tessera.orgId);
      const declined = await tessera.request(`/user/invitations/${invited.body.orgUserId}/decline`, {
        method: "POST",
        token: erinToken,
      });
      assert.equal(declined.status, 204, declined.text);
      const listed = (await tessera.request(org2Users, { token: org2Token })).body;
      assert.equal(
        listed.find((user: { id: number }) => user.id === erin.userId),
        undefined,
      );
      const events = await auditEvents(tessera, org2Token, org2);
      assert.ok(events.some((event) => event.type === "membership.declined" && event.subjectUserId === erin.userId));
      assert.equal((await invite({ email: erin.email })).status, 201);
    });

    it("refuses another account's invitation (404), an API key (403) and no token (401)", async () => {
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      const mallory = await createMember(tessera, { orgId: org2, role: "admin" });
      const invited = await invite({ email: erin.email });
      const path = `/user/invitations/${invited.body.orgUserId}/accept`;
      const malloryToken = await tessera.login(mallory.email, memberPassword, org2);
      assertProblem(await tessera.request(path, { method: "POST", token: malloryToken }), 404, "not_found");
      const key = await tessera.request("/user/apiKey", {
        token: await tessera.login(adminEmail, adminPassword, tessera.orgId),
        body: { orgUserId: erin.membershipId, name: "erin's key" },
      });
      assert.equal(key.status, 200, key.text);
      assertProblem(await tessera.request(path, { method: "POST", apiKey: key.body.apiKey }), 403, "forbidden");
      assertProblem(await tessera.request(path, { method: "POST" }), 401, "invalid_token");
      assertProblem(await tessera.request("/user/invitations", { apiKey: key.body.apiKey }), 403, "forbidden");
      const pending = await tessera.ctx.db
        .selectFrom("memberships")
        .select(["active", "accepted_at"])
        .where("id", "=", invited.body.orgUserId)
        .executeTakeFirstOrThrow();
      assert.deepEqual(pending, { active: 0, accepted_at: null });
    });

    it("keeps a pending membership out of logins and the account's org list", async () => {
      const erin = await createMember(tessera, { email: uniqueEmail("erin") });
      await addMembership(tessera, { orgId: org2, userId: erin.userId, role: "admin", invitation: true });
      // One active org: the login needs no selectedOrg, the invitation does not count.
      const login = await tessera.request("/user/authenticate", {
        body: { email: erin.email, password: memberPassword },
      });
      assert.equal(login.status, 200, login.text);
      assert.equal(login.body.orgId, tessera.orgId);
      const orgs = (await tessera.request("/user/orgs", { token: login.body.token })).body;
      assert.deepEqual(
        orgs.map((org: { id: number }) => org.id),
        [tessera.orgId],
      );
    });
  });
});
