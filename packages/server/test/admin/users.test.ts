import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { addMemberWithSession, addUser, assertProblem, auditEvents, createSecondOrg } from "@tessera/test-kit/admin.ts";
import { countRows, memberPassword, uniqueEmail } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

const orgUserFields = ["active", "displayName", "email", "id", "kind", "orgUserId", "role", "username"];

describe("admin users", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let adminUserId: number;
  let usersPath: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    adminUserId = (await tessera.request("/user/users/me", { token: adminToken })).body.id;
    usersPath = `/admin/orgs/${tessera.orgId}/users`;
  });
  after(() => tessera.close());

  describe("GET /admin/orgs/{orgId}/users", () => {
    it("lists members with user id, membership id, kind, role and combined active flag", async () => {
      const response = await tessera.request(usersPath, { token: adminToken });
      assert.equal(response.status, 200);
      const admin = response.body.find((user: { email: string }) => user.email === adminEmail);
      assert.deepEqual(Object.keys(admin).sort(), orgUserFields);
      assert.equal(admin.id, adminUserId);
      assert.equal(admin.kind, "person");
      assert.equal(admin.username, null);
      assert.equal(admin.role, "owner");
      assert.equal(admin.active, true);
      assert.ok(Number.isInteger(admin.orgUserId));
    });

    it("shows a deactivated membership as inactive", async () => {
      const user = await addUser(tessera, adminToken, { role: "member" });
      await tessera.request(`${usersPath}/${user.id}`, { method: "PATCH", token: adminToken, body: { active: false } });
      const listed = (await tessera.request(usersPath, { token: adminToken })).body.find(
        (row: { id: number }) => row.id === user.id,
      );
      assert.equal(listed.active, false);
    });
  });

  describe("POST /admin/orgs/{orgId}/users", () => {
    it("creates a person with a password who can log in at once; the email is stored lower-case", async () => {
      const response = await tessera.request(usersPath, {
        token: adminToken,
        body: { email: "New.Person@Example.COM", displayName: "New Person", password: memberPassword, role: "admin" },
      });
      assert.equal(response.status, 201, response.text);
      assert.deepEqual(Object.keys(response.body).sort(), orgUserFields);
      assert.equal(response.body.email, "new.person@example.com");
      assert.equal(response.body.displayName, "New Person");
      assert.equal(response.body.kind, "person");
      assert.equal(response.body.role, "admin");
      assert.equal(response.body.active, true);
      const token = await tessera.login("new.person@example.com", memberPassword);
      const me = await tessera.request("/user/users/me", { token });
      assert.equal(me.body.id, response.body.id);
      assert.equal(me.body.orgUserId, response.body.orgUserId);
      assert.equal(me.body.role, "admin");
    });

    it("creates a person without a password who cannot log in with one", async () => {
      const email = uniqueEmail("sso");
      const user = await addUser(tessera, adminToken, { email, role: "member", password: null });
      assert.equal(user.role, "member");
      const login = await tessera.request("/user/authenticate", {
        body: { email, password: "", selectedOrg: tessera.orgId },
      });
      assert.equal(login.status, 400, "an empty password is refused by schema");
      assertProblem(
        await tessera.request("/user/authenticate", {
          body: { email, password: "anything at all", selectedOrg: tessera.orgId },
        }),
        401,
        "invalid_credentials",
      );
    });

    it("creates a service user with a username, no password, and role service", async () => {
      const response = await tessera.request(usersPath, {
        token: adminToken,
        body: { email: "bot@example.com", kind: "service", username: "bot-1", role: "service" },
      });
      assert.equal(response.status, 201, response.text);
      assert.equal(response.body.kind, "service");
      assert.equal(response.body.username, "bot-1");
      assert.equal(response.body.role, "service");
      assert.equal(response.body.displayName, "bot-1");
      const row = await tessera.ctx.db
        .selectFrom("users")
        .select("password_hash")
        .where("id", "=", response.body.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.password_hash, null);
    });

    it("invites an existing email of another org; accepted, the membership works with its own password", async () => {
      const other = await createSecondOrg(tessera, adminToken);
      const user = await addUser(tessera, adminToken, { role: "member" });
      const response = await tessera.request(`/admin/orgs/${other.orgId}/users`, {
        token: other.token,
        body: { email: user.email.toUpperCase(), role: "auditor" },
      });
      assert.equal(response.status, 201, response.text);
      assert.deepEqual(Object.keys(response.body).sort(), orgUserFields);
      assert.equal(response.body.id, user.id);
      assert.notEqual(response.body.orgUserId, user.orgUserId);
      assert.equal(response.body.role, "auditor");
      assert.equal(response.body.active, false, "an invitation until the account accepts it");
      const ownToken = await tessera.login(user.email, memberPassword);
      const accepted = await tessera.request(`/user/invitations/${response.body.orgUserId}/accept`, {
        method: "POST",
        token: ownToken,
      });
      assert.equal(accepted.status, 200, accepted.text);
      const token = await tessera.login(user.email, memberPassword, other.orgId);
      assert.equal((await tessera.request("/user/users/me", { token })).body.role, "auditor");
      const events = await auditEvents(tessera, other.token, other.orgId);
      const added = events.find((event) => event.type === "membership.invited" && event.subjectUserId === user.id);
      assert.equal(added?.data.role, "auditor");
    });

    it("never sets a password on an existing account from another org: an invitation, the password unchanged", async () => {
      const other = await createSecondOrg(tessera, adminToken);
      const user = await addUser(tessera, adminToken, { role: "member" });
      const response = await tessera.request(`/admin/orgs/${other.orgId}/users`, {
        token: other.token,
        body: { email: user.email, role: "member", password: "an attacker's chosen password" },
      });
      assert.equal(response.status, 201, response.text);
      assert.equal(response.body.active, false);
      await tessera.login(user.email, memberPassword);
      assertProblem(
        await tessera.request("/user/authenticate", {
          body: { email: user.email, password: "an attacker's chosen password", selectedOrg: tessera.orgId },
        }),
        401,
        "invalid_credentials",
      );
    });

    it("answers 409 conflict to an email that is already a member, in any letter case", async () => {
      const user = await addUser(tessera, adminToken, { role: "member" });
      const before = await countRows(tessera);
      for (const email of [user.email, user.email.toUpperCase()]) {
        assertProblem(
          await tessera.request(usersPath, { token: adminToken, body: { email, role: "admin" } }),
          409,
          "conflict",
        );
      }
      assert.deepEqual(await countRows(tessera), before);
    });

    it("creates one user from concurrent requests for the same new email; the others get 409 conflict", async () => {
      const email = uniqueEmail("race");
      const before = await countRows(tessera);
      const responses = await Promise.all(
        Array.from({ length: 6 }, () =>
          tessera.request(usersPath, { token: adminToken, body: { email, role: "member", password: memberPassword } }),
        ),
      );
      const statuses = responses.map((response) => response.status).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409]);
      for (const response of responses.filter((candidate) => candidate.status === 409)) {
        assert.equal(response.body.code, "conflict");
      }
      const after = await countRows(tessera);
      assert.equal(after.users, before.users + 1);
      assert.equal(after.memberships, before.memberships + 1);
      assert.equal(after.password_history, before.password_history + 1);
    });

    it("answers 409 conflict to a service username already taken", async () => {
      await addUser(tessera, adminToken, { kind: "service", username: "taken-cn", role: "service" });
      const before = await countRows(tessera);
      const response = await tessera.request(usersPath, {
        token: adminToken,
        body: { email: uniqueEmail("svc"), kind: "service", username: "taken-cn", role: "service" },
      });
      assertProblem(response, 409, "conflict");
      assert.deepEqual(await countRows(tessera), before);
    });

    it("answers 400 invalid_request to service users without username, with a password, or with another role", async () => {
      const before = await countRows(tessera);
      const bodies = [
        { email: uniqueEmail("svc"), kind: "service", role: "service" },
        { email: uniqueEmail("svc"), kind: "service", username: "svc-pw", role: "service", password: memberPassword },
        { email: uniqueEmail("svc"), kind: "service", username: "svc-admin", role: "admin" },
        { email: uniqueEmail("person"), role: "service", password: memberPassword },
        { email: uniqueEmail("person"), role: "member", username: "person-cn" },
      ];
      for (const body of bodies) {
        assertProblem(await tessera.request(usersPath, { token: adminToken, body }), 400, "invalid_request");
      }
      assert.deepEqual(await countRows(tessera), before);
    });

    it("refuses a password shorter than the org's policy with 400 password_policy_violation and creates nothing", async () => {
      const before = await countRows(tessera);
      const email = uniqueEmail("short");
      const response = await tessera.request(usersPath, {
        token: adminToken,
        body: { email, role: "member", password: "short" },
      });
      assertProblem(response, 400, "password_policy_violation");
      assert.deepEqual(await countRows(tessera), before);
      const found = await tessera.ctx.db.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
      assert.equal(found, undefined);
    });

    it("applies the org's current password policy", async () => {
      const policyPath = `/admin/orgs/${tessera.orgId}/password-policy`;
      const policy = (await tessera.request(policyPath, { token: adminToken })).body;
      await tessera.request(policyPath, { method: "PUT", token: adminToken, body: { ...policy, minLength: 40 } });
      try {
        assertProblem(
          await tessera.request(usersPath, {
            token: adminToken,
            body: { email: uniqueEmail("policy"), role: "member", password: memberPassword },
          }),
          400,
          "password_policy_violation",
        );
      } finally {
        await tessera.request(policyPath, { method: "PUT", token: adminToken, body: policy });
      }
    });

    it("answers 400 invalid_request to unknown fields, wrong types and bad values", async () => {
      const before = await countRows(tessera);
      const bodies = [
        { email: uniqueEmail("x"), role: "member", isSystemAdmin: true },
        { email: uniqueEmail("x"), role: "superuser" },
        { email: uniqueEmail("x"), role: 1 },
        { email: "not-an-email", role: "member" },
        { email: uniqueEmail("x"), role: "member", kind: "robot" },
        { email: uniqueEmail("x"), role: "member", password: 123456789012345 },
        { role: "member" },
        { email: uniqueEmail("x") },
      ];
      for (const body of bodies) {
        assertProblem(await tessera.request(usersPath, { token: adminToken, body }), 400, "invalid_request");
      }
      assert.deepEqual(await countRows(tessera), before);
    });

    it("lets only an owner grant the owner role", async () => {
      const admin = await addMemberWithSession(tessera, adminToken, "admin");
      const before = await countRows(tessera);
      assertProblem(
        await tessera.request(usersPath, { token: admin.token, body: { email: uniqueEmail("o"), role: "owner" } }),
        403,
        "forbidden",
      );
      assert.deepEqual(await countRows(tessera), before);
      const byOwner = await tessera.request(usersPath, {
        token: adminToken,
        body: { email: uniqueEmail("o"), role: "owner" },
      });
      assert.equal(byOwner.status, 201);
      assert.equal(byOwner.body.role, "owner");
    });

    it("records user.created with the actor and never the password", async () => {
      const user = await addUser(tessera, adminToken, { role: "auditor" });
      const events = await auditEvents(tessera, adminToken);
      const created = events.find((event) => event.type === "user.created" && event.subjectUserId === user.id);
      assert.equal(created?.actorUserId, adminUserId);
      assert.equal(created?.data.role, "auditor");
      assert.equal(created?.data.orgUserId, user.orgUserId);
      assert.ok(!JSON.stringify(events).includes(memberPassword));
      assert.ok(tessera.logs.length > 0 && !tessera.logs.some((line) => line.includes(memberPassword)));
    });
  });

  describe("PATCH /admin/orgs/{orgId}/users/{userId}", () => {
    it("changes role and active flag and answers the updated user", async () => {
      const user = await addUser(tessera, adminToken, { role: "member" });
      const promoted = await tessera.request(`${usersPath}/${user.id}`, {
        method: "PATCH",
        token: adminToken,
        body: { role: "admin" },
      });
      assert.equal(promoted.status, 200, promoted.text);
      assert.deepEqual(Object.keys(promoted.body).sort(), orgUserFields);
      assert.equal(promoted.body.role, "admin");
      assert.equal(promoted.body.active, true);
      const deactivated = await tessera.request(`${usersPath}/${user.id}`, {
        method: "PATCH",
        token: adminToken,
        body: { active: false, role: "auditor" },
      });
      assert.equal(deactivated.body.role, "auditor");
      assert.equal(deactivated.body.active, false);
      const reactivated = await tessera.request(`${usersPath}/${user.id}`, {
        method: "PATCH",
        token: adminToken,
        body: { active: true },
      });
      assert.equal(reactivated.body.active, true);

      const events = (await auditEvents(tessera, adminToken)).filter(
        (event) => event.type === "membership.updated" && event.subjectUserId === user.id,
      );
      assert.deepEqual(
        events.map((event) => [event.actorUserId, event.data.role, event.data.active]),
        [
          [adminUserId, { from: "member", to: "admin" }, undefined],
          [adminUserId, { from: "admin", to: "auditor" }, { from: true, to: false }],
          [adminUserId, undefined, { from: false, to: true }],
        ],
      );
    });

    it("answers 404 not_found to a user who is not a member of this org", async () => {
      const other = await createSecondOrg(tessera, adminToken);
      const outsider = await addUser(tessera, other.token, { role: "member" }, other.orgId);
      for (const userId of [outsider.id, 999999]) {
        assertProblem(
          await tessera.request(`${usersPath}/${userId}`, {
            method: "PATCH",
            token: adminToken,
            body: { role: "admin" },
          }),
          404,
          "not_found",
        );
      }
    });

    it("answers 400 invalid_request to an empty body, unknown fields and wrong types", async () => {
      const user = await addUser(tessera, adminToken, { role: "member" });
      for (const body of [{}, { role: "member", email: "x@example.com" }, { active: "false" }, { role: "root" }]) {
        assertProblem(
          await tessera.request(`${usersPath}/${user.id}`, { method: "PATCH", token: adminToken, body }),
          400,
          "invalid_request",
        );
      }
      assertProblem(
        await tessera.request(`${usersPath}/${user.id}`, { method: "PATCH", token: adminToken }),
        400,
        "invalid_request",
      );
    });

    it("keeps role service to service users", async () => {
      const person = await addUser(tessera, adminToken, { role: "member" });
      const bot = await addUser(tessera, adminToken, { kind: "service", username: "patch-bot", role: "service" });
      for (const [id, role] of [
        [person.id, "service"],
        [bot.id, "admin"],
      ] as const) {
        assertProblem(
          await tessera.request(`${usersPath}/${id}`, { method: "PATCH", token: adminToken, body: { role } }),
          400,
          "invalid_request",
        );
      }
    });

    it("lets only an owner grant owner or change an owner", async () => {
      const admin = await addMemberWithSession(tessera, adminToken, "admin");
      const member = await addUser(tessera, adminToken, { role: "member" });
      const owner = await addUser(tessera, adminToken, { role: "owner" });
      const cases = [
        [member.id, { role: "owner" }],
        [owner.id, { role: "member" }],
        [owner.id, { active: false }],
        [adminUserId, { role: "admin" }],
      ] as const;
      for (const [id, body] of cases) {
        assertProblem(
          await tessera.request(`${usersPath}/${id}`, { method: "PATCH", token: admin.token, body }),
          403,
          "forbidden",
        );
      }
      const users = (await tessera.request(usersPath, { token: adminToken })).body;
      assert.equal(users.find((row: { id: number }) => row.id === member.id).role, "member");
      assert.equal(users.find((row: { id: number }) => row.id === owner.id).role, "owner");
      assert.equal(users.find((row: { id: number }) => row.id === owner.id).active, true);
    });
  });

  describe("last-owner guard", () => {
    it("refuses to demote or deactivate the last active owner with 409 last_owner, and allows it once another exists", async () => {
      const other = await createSecondOrg(tessera, adminToken);
      const path = `/admin/orgs/${other.orgId}/users/${adminUserId}`;
      const before = await countRows(tessera);
      for (const body of [{ role: "admin" }, { active: false }, { role: "member", active: false }]) {
        assertProblem(await tessera.request(path, { method: "PATCH", token: other.token, body }), 409, "last_owner");
      }
      assert.deepEqual(await countRows(tessera), before);

      // An inactive owner does not count as another owner.
      const dormant = await addUser(tessera, other.token, { role: "owner" }, other.orgId);
      await tessera.request(`/admin/orgs/${other.orgId}/users/${dormant.id}`, {
        method: "PATCH",
        token: other.token,
        body: { active: false },
      });
      assertProblem(
        await tessera.request(path, { method: "PATCH", token: other.token, body: { role: "admin" } }),
        409,
        "last_owner",
      );

      await addUser(tessera, other.token, { role: "owner" }, other.orgId);
      const demoted = await tessera.request(path, { method: "PATCH", token: other.token, body: { role: "admin" } });
      assert.equal(demoted.status, 200, demoted.text);
      assert.equal(demoted.body.role, "admin");
    });

    it("keeps one owner when two owners demote each other at the same time", async () => {
      const other = await createSecondOrg(tessera, adminToken);
      const second = await addUser(tessera, other.token, { role: "owner" }, other.orgId);
      const secondToken = await tessera.login(second.email, memberPassword, other.orgId);
      const [first, last] = await Promise.all([
        tessera.request(`/admin/orgs/${other.orgId}/users/${second.id}`, {
          method: "PATCH",
          token: other.token,
          body: { role: "admin" },
        }),
        tessera.request(`/admin/orgs/${other.orgId}/users/${adminUserId}`, {
          method: "PATCH",
          token: secondToken,
          body: { role: "admin" },
        }),
      ]);
      // The loser either finds itself already demoted (403) or the other owner gone (409).
      const [winner, loser] = first.status === 200 ? [first, last] : [last, first];
      assert.equal(winner.status, 200);
      assert.ok(
        (loser.status === 409 && loser.body.code === "last_owner") ||
          (loser.status === 403 && loser.body.code === "forbidden"),
        loser.text,
      );
      const owners = (await tessera.request(`/admin/orgs/${other.orgId}/users`, { token: other.token })).body.filter(
        (user: { role: string }) => user.role === "owner",
      );
      assert.equal(owners.length, 1);
    });

    it("lets the login of the last owner keep working after a refused demotion", async () => {
      const other = await createSecondOrg(tessera, adminToken);
      const refused = await tessera.request(`/admin/orgs/${other.orgId}/users/${adminUserId}`, {
        method: "PATCH",
        token: other.token,
        body: { active: false },
      });
      assertProblem(refused, 409, "last_owner");
      assert.equal((await tessera.request("/user/users/me", { token: other.token })).status, 200);
      await tessera.login(adminEmail, adminPassword, other.orgId);
    });
  });
});
