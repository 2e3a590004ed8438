import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertProblem, auditEvents } from "@tessera/test-kit/admin.ts";
import { countRows } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

const defaultPasswordPolicy = {
  minLength: 12,
  maxAgeDays: 0,
  historyCount: 5,
  maxFailedAttempts: 5,
  lockoutMinutes: 15,
};
const defaultSessionPolicy = {
  userIdleSeconds: 900,
  userAbsoluteSeconds: 43200,
  serviceSessionSeconds: 86400,
  renewGraceSeconds: 30,
};

describe("admin policies", () => {
  let tessera: TestInstance;
  let adminToken: string;
  let passwordPath: string;
  let sessionPath: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
    passwordPath = `/admin/orgs/${tessera.orgId}/password-policy`;
    sessionPath = `/admin/orgs/${tessera.orgId}/session-policy`;
  });
  after(() => tessera.close());

  describe("password policy", () => {
    it("reads the defaults, replaces the whole policy, reads it back, and audits the change", async () => {
      const initial = await tessera.request(passwordPath, { token: adminToken });
      assert.equal(initial.status, 200);
      assert.deepEqual(initial.body, defaultPasswordPolicy);

      const policy = { minLength: 16, maxAgeDays: 90, historyCount: 3, maxFailedAttempts: 10, lockoutMinutes: 30 };
      const put = await tessera.request(passwordPath, { method: "PUT", token: adminToken, body: policy });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.body, policy);
      assert.deepEqual((await tessera.request(passwordPath, { token: adminToken })).body, policy);

      const event = (await auditEvents(tessera, adminToken)).findLast(
        (candidate) => candidate.type === "password_policy.updated",
      );
      assert.deepEqual(event?.data, { from: defaultPasswordPolicy, to: policy });
      const me = await tessera.request("/user/users/me", { token: adminToken });
      assert.equal(event?.actorUserId, me.body.id);
      await tessera.request(passwordPath, { method: "PUT", token: adminToken, body: defaultPasswordPolicy });
    });

    it("answers 400 invalid_request to a partial object, out-of-range values, wrong types and unknown fields", async () => {
      const before = await countRows(tessera);
      const current = (await tessera.request(passwordPath, { token: adminToken })).body;
      const { minLength: _omitted, ...partial } = defaultPasswordPolicy;
      const bodies = [
        partial,
        { ...defaultPasswordPolicy, minLength: 7 },
        { ...defaultPasswordPolicy, maxAgeDays: -1 },
        { ...defaultPasswordPolicy, maxFailedAttempts: 0 },
        { ...defaultPasswordPolicy, lockoutMinutes: 1.5 },
        { ...defaultPasswordPolicy, historyCount: "5" },
        { ...defaultPasswordPolicy, complexity: true },
      ];
      for (const body of bodies) {
        assertProblem(
          await tessera.request(passwordPath, { method: "PUT", token: adminToken, body }),
          400,
          "invalid_request",
        );
      }
      assert.deepEqual(await countRows(tessera), before);
      assert.deepEqual((await tessera.request(passwordPath, { token: adminToken })).body, current);
    });
  });

  describe("session policy", () => {
    it("reads the defaults, replaces the whole policy and new logins follow it", async () => {
      const initial = await tessera.request(sessionPath, { token: adminToken });
      assert.equal(initial.status, 200);
      assert.deepEqual(initial.body, defaultSessionPolicy);

      const policy = {
        userIdleSeconds: 600,
        userAbsoluteSeconds: 3600,
        serviceSessionSeconds: 1209600,
        renewGraceSeconds: 10,
      };
      const put = await tessera.request(sessionPath, { method: "PUT", token: adminToken, body: policy });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.body, policy);
      assert.deepEqual((await tessera.request(sessionPath, { token: adminToken })).body, policy);

      const login = await tessera.request("/user/authenticate", {
        body: { email: "admin@example.com", password: "correct horse battery staple", selectedOrg: tessera.orgId },
      });
      assert.equal(login.body.expiresIn, 600);

      const event = (await auditEvents(tessera, adminToken)).findLast(
        (candidate) => candidate.type === "session_policy.updated",
      );
      assert.deepEqual(event?.data, { from: defaultSessionPolicy, to: policy });
      await tessera.request(sessionPath, { method: "PUT", token: adminToken, body: defaultSessionPolicy });
    });

    it("accepts the bounds of serviceSessionSeconds (1 hour and 2 weeks) and refuses beyond them", async () => {
      for (const serviceSessionSeconds of [3600, 1209600]) {
        const response = await tessera.request(sessionPath, {
          method: "PUT",
          token: adminToken,
          body: { ...defaultSessionPolicy, serviceSessionSeconds },
        });
        assert.equal(response.status, 200, response.text);
      }
      for (const serviceSessionSeconds of [3599, 1209601]) {
        assertProblem(
          await tessera.request(sessionPath, {
            method: "PUT",
            token: adminToken,
            body: { ...defaultSessionPolicy, serviceSessionSeconds },
          }),
          400,
          "invalid_request",
        );
      }
      await tessera.request(sessionPath, { method: "PUT", token: adminToken, body: defaultSessionPolicy });
    });

    it("answers 400 invalid_session_policy when the idle window exceeds the absolute cap, changing nothing", async () => {
      const before = await countRows(tessera);
      const response = await tessera.request(sessionPath, {
        method: "PUT",
        token: adminToken,
        body: { ...defaultSessionPolicy, userIdleSeconds: 7200, userAbsoluteSeconds: 3600 },
      });
      assertProblem(response, 400, "invalid_session_policy");
      assert.deepEqual((await tessera.request(sessionPath, { token: adminToken })).body, defaultSessionPolicy);
      assert.deepEqual(await countRows(tessera), before);
    });

    it("answers 400 invalid_request to a partial object, out-of-range values, wrong types and unknown fields", async () => {
      const { renewGraceSeconds: _omitted, ...partial } = defaultSessionPolicy;
      const bodies = [
        partial,
        { ...defaultSessionPolicy, userIdleSeconds: 0 },
        { ...defaultSessionPolicy, renewGraceSeconds: 301 },
        { ...defaultSessionPolicy, userAbsoluteSeconds: "86400" },
        { ...defaultSessionPolicy, userIdleSeconds: null },
        { ...defaultSessionPolicy, serviceSessionMinutes: 60 },
      ];
      for (const body of bodies) {
        assertProblem(
          await tessera.request(sessionPath, { method: "PUT", token: adminToken, body }),
          400,
          "invalid_request",
        );
      }
      assert.deepEqual((await tessera.request(sessionPath, { token: adminToken })).body, defaultSessionPolicy);
    });
  });
});
