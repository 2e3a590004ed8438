import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertProblem } from "@tessera/test-kit/admin.ts";
import { countRows, createMember, type FixtureMember, uniqueEmail } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/** Rules every new password meets, whatever an org's policy: length cap, Unicode form, not a common password. */
describe("password rules", () => {
  let tessera: TestInstance;
  let adminToken: string;
  before(async () => {
    tessera = await startTestInstance();
    adminToken = await tessera.login();
  });
  after(() => tessera.close());

  const login = (email: string, password: string) =>
    tessera.request("/user/authenticate", { body: { email, password, selectedOrg: tessera.orgId } });
  const change = (member: FixtureMember, newPassword: string, currentPassword = member.password) =>
    tessera.request("/user/password", {
      body: { email: member.email, currentPassword, newPassword, selectedOrg: tessera.orgId },
    });
  const createWithPassword = (password: string) =>
    tessera.request(`/admin/orgs/${tessera.orgId}/users`, {
      token: adminToken,
      body: { email: uniqueEmail("rules"), role: "member", password },
    });

  it("accepts 128 characters and refuses 129 with 400 password_too_long, changing nothing", async () => {
    const member = await createMember(tessera);
    const before = await countRows(tessera);
    assertProblem(await change(member, "x".repeat(120) + "é".repeat(9)), 400, "password_too_long");
    assertProblem(await createWithPassword("y".repeat(129)), 400, "password_too_long");
    assert.deepEqual(await countRows(tessera), before);
    const longest = `${"z".repeat(127)}é`;
    assert.equal((await change(member, longest)).status, 204);
    assert.equal((await login(member.email, longest)).status, 200);
  });

  it("counts characters after NFC normalisation (a decomposed é is one character)", async () => {
    const member = await createMember(tessera);
    const decomposed = `${"w".repeat(127)}e\u0301`;
    assert.equal([...decomposed].length, 129);
    assert.equal((await change(member, decomposed)).status, 204);
  });

  it("logs in with the same password typed in NFD or NFC, whichever form set it", async () => {
    const nfc = "crème brûlée à la française";
    const nfd = nfc.normalize("NFD");
    assert.notEqual(nfc, nfd);
    const member = await createMember(tessera, { password: nfc });
    assert.equal((await login(member.email, nfd)).status, 200);
    const changed = await change(member, "naïve café déjà vu".normalize("NFD"), nfd);
    assert.equal(changed.status, 204, changed.text);
    assert.equal((await login(member.email, "naïve café déjà vu".normalize("NFC"))).status, 200);
    // The history compares normalised forms too: the old password in the other form is a reuse.
    assertProblem(await change(member, nfc, "naïve café déjà vu"), 400, "password_policy_violation");
  });

  it("refuses a common password (any case) with 400 password_too_common, changing nothing", async () => {
    const member = await createMember(tessera);
    const before = await countRows(tessera);
    for (const common of ["password1234", "Qwerty123456", "1QAZ2WSX3EDC"]) {
      assertProblem(await change(member, common), 400, "password_too_common");
    }
    assertProblem(await createWithPassword("administrator"), 400, "password_too_common");
    assert.deepEqual(await countRows(tessera), before);
    assert.equal((await login(member.email, member.password)).status, 200);
  });
});
