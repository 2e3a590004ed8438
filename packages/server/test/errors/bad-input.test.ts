import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { countRows, createMember } from "@tessera/test-kit/fixtures.ts";
import { adminEmail, adminPassword, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { type RawResponse, rawExchange, rawRequest } from "@tessera/test-kit/raw-http.ts";

const problemJson = "application/problem+json; charset=utf-8";

function assertProblem(response: RawResponse, status: number, code: string, label = ""): void {
  assert.equal(response.status, status, `${label} ${response.text}`);
  assert.equal(response.headers["content-type"], problemJson, label);
  assert.equal(response.body?.code, code, label);
  assert.equal(response.body?.status, status, label);
}

describe("bad input", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance({ env: { TESSERA_BODY_LIMIT: "2048" } });
  });
  after(() => tessera.close());

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    rawRequest(tessera.baseUrl, path, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });

  /** Sends a rejected request and checks that no table changed. */
  async function rejectedWithoutWrites(send: () => Promise<RawResponse>, status: number, code: string, label = "") {
    const before = await countRows(tessera);
    const response = await send();
    assertProblem(response, status, code, label);
    assert.deepEqual(await countRows(tessera), before, `${label}: nothing written`);
    return response;
  }

  it("answers malformed JSON with 400 malformed_json", async () => {
    for (const body of ['{"email": "a@b.c",', "{email: 1}", "[1,2", "nul", '{"a":1}}', "\u0000"]) {
      await rejectedWithoutWrites(() => post("/user/authenticate", body), 400, "malformed_json", body);
    }
  });

  it("answers wrong types and shapes with 400 invalid_request", async () => {
    const bodies: unknown[] = [
      { email: adminEmail, password: adminPassword, selectedOrg: "1" },
      { email: adminEmail, password: 123, selectedOrg: 1 },
      { email: adminEmail, password: adminPassword, selectedOrg: 0 },
      { email: adminEmail, password: adminPassword, selectedOrg: -1 },
      { email: adminEmail, password: adminPassword, selectedOrg: 1.5 },
      { email: adminEmail, password: adminPassword, selectedOrg: 1e300 },
      { email: ["x@y.z"], password: adminPassword },
      { email: "not-an-email", password: adminPassword },
      { email: adminEmail, password: "" },
      { email: adminEmail, password: "x".repeat(1025) },
      { email: adminEmail },
      {},
      [],
      "a string",
      42,
      null,
    ];
    for (const body of bodies) {
      await rejectedWithoutWrites(
        () => post("/user/authenticate", JSON.stringify(body)),
        400,
        "invalid_request",
        JSON.stringify(body).slice(0, 80),
      );
    }
  });

  it("refuses unknown fields where they matter (login, password change, API keys)", async () => {
    const token = await tessera.login();
    const member = await createMember(tessera);
    await rejectedWithoutWrites(
      () =>
        post(
          "/user/authenticate",
          JSON.stringify({ email: adminEmail, password: adminPassword, selectedOrg: tessera.orgId, remember: true }),
        ),
      400,
      "invalid_request",
      "login",
    );
    await rejectedWithoutWrites(
      () =>
        post(
          "/user/password",
          JSON.stringify({
            email: member.email,
            currentPassword: member.password,
            newPassword: "a valid new password",
            force: true,
          }),
        ),
      400,
      "invalid_request",
      "password",
    );
    await rejectedWithoutWrites(
      () =>
        post("/user/apiKey", JSON.stringify({ orgUserId: member.membershipId, name: "k", role: "owner" }), {
          authorization: `Bearer ${token}`,
        }),
      400,
      "invalid_request",
      "apiKey",
    );
  });

  it("answers a POST /user/authenticate without a body with 400 invalid_request", async () => {
    await rejectedWithoutWrites(
      () => rawRequest(tessera.baseUrl, "/user/authenticate", { method: "POST" }),
      400,
      "invalid_request",
      "no body, no content type",
    );
    await rejectedWithoutWrites(() => post("/user/authenticate", ""), 400, "invalid_request", "empty JSON body");
  });

  it("answers a body over the limit (TESSERA_BODY_LIMIT) with 413 payload_too_large", async () => {
    const padding = "x".repeat(3000);
    await rejectedWithoutWrites(
      () => post("/user/authenticate", JSON.stringify({ email: adminEmail, password: padding })),
      413,
      "payload_too_large",
    );
    // Just under the limit is read, and judged on its content.
    const underLimit = await post(
      "/user/authenticate",
      JSON.stringify({ email: adminEmail, password: "y".repeat(1000) }),
    );
    assert.equal(underLimit.status, 401);
  });

  it("refuses __proto__ and constructor keys with 400, polluting nothing", async () => {
    for (const body of [
      `{"email":"${adminEmail}","password":"${adminPassword}","__proto__":{"isAdmin":true}}`,
      `{"__proto__":{"polluted":true}}`,
      `{"email":"${adminEmail}","password":"x","constructor":{"prototype":{"polluted":true}}}`,
    ]) {
      await rejectedWithoutWrites(() => post("/user/authenticate", body), 400, "invalid_request", body);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  it("answers garbage tokens of every shape with 401 invalid_token", async () => {
    const headers: Record<string, string>[] = [
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: "Bearer    " },
      { authorization: `Bearer tsk_${"a".repeat(43)}` },
      { authorization: `Bearer tss_${"a".repeat(43)}` },
      { authorization: "Bearer tsu_" },
      { authorization: `Bearer tsu_${"a".repeat(42)}` },
      { authorization: `Bearer tsu_${"a".repeat(44)}` },
      { authorization: `Bearer tsu_${"a".repeat(8000)}` },
      { authorization: `Bearer tsu_${"a".repeat(42)}=` },
      { authorization: `Bearer tsu_${"a".repeat(42)}.` },
      { authorization: Buffer.from(`Bearer tsu_${"é".repeat(21)}a`, "utf8").toString("latin1") },
      { authorization: `Bearer tsu_${"\u00ff".repeat(43)}` },
      { authorization: "Bearer tsu_a b" },
      { authorization: "Bearer a.b.c" },
      { authorization: "Basic YWRtaW5AZXhhbXBsZS5jb206cGFzc3dvcmQ=" },
      { authorization: `Token tsu_${"a".repeat(43)}` },
      { authorization: `tsu_${"a".repeat(43)}` },
      { authorization: `Bearer\ttsu_${"a".repeat(43)} extra` },
      { "x-api-key": "tsk_" },
      { "x-api-key": `tsk_${"z".repeat(43)}` },
      { "x-api-key": `tsk_${"z".repeat(4000)}` },
      { "x-api-key": Buffer.from("tsk_ключ", "utf8").toString("latin1") },
    ];
    for (const header of headers) {
      for (const [method, path] of [
        ["GET", "/user/users/me"],
        ["GET", "/user/authenticate"],
        ["DELETE", "/user/authenticate"],
      ]) {
        const label = `${method} ${path} ${JSON.stringify(header).slice(0, 60)}`;
        const response = await rawRequest(tessera.baseUrl, path ?? "", { method, headers: header });
        assertProblem(response, 401, "invalid_token", label);
        assert.match(String(response.headers["www-authenticate"]), /^Bearer /, label);
      }
    }
  });

  it("answers an empty Authorization header like a missing one", async () => {
    const response = await rawRequest(tessera.baseUrl, "/user/users/me", { headers: { authorization: "" } });
    assertProblem(response, 401, "invalid_token");
    assert.equal(response.headers["www-authenticate"], 'Bearer realm="tessera"');
  });

  it("answers an unsupported content type with 415 unsupported_media_type", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "application/xml", "text/json"]) {
      await rejectedWithoutWrites(
        () =>
          rawRequest(tessera.baseUrl, "/user/authenticate", {
            method: "POST",
            headers: { "content-type": contentType },
            body: JSON.stringify({ email: adminEmail, password: adminPassword }),
          }),
        415,
        "unsupported_media_type",
        contentType,
      );
    }
    await rejectedWithoutWrites(
      () =>
        rawRequest(tessera.baseUrl, "/user/authenticate", {
          method: "POST",
          body: JSON.stringify({ email: adminEmail, password: adminPassword }),
        }),
      415,
      "unsupported_media_type",
      "a body without a content type",
    );
  });

  it("accepts application/json with a charset parameter", async () => {
    const response = await post(
      "/user/authenticate",
      JSON.stringify({ email: adminEmail, password: adminPassword, selectedOrg: tessera.orgId }),
      { "content-type": "application/json; charset=utf-8" },
    );
    assert.equal(response.status, 200);
  });

  it("answers an unknown path or method with a problem+json 404 / 405", async () => {
    assertProblem(await rawRequest(tessera.baseUrl, "/no/such/path"), 404, "not_found");
    assertProblem(await rawRequest(tessera.baseUrl, "/user/authenticate/extra"), 404, "not_found");
    const wrongMethod = await rawRequest(tessera.baseUrl, "/user/users/me", { method: "PATCH" });
    assert.ok([404, 405].includes(wrongMethod.status), wrongMethod.text);
    assert.equal(wrongMethod.headers["content-type"], problemJson);
  });

  it("answers a path with bad percent-encoding in the API's own error shape", async () => {
    for (const path of ["/admin/orgs/%ZZ/users", "/user/%ZZ", "/user/users/me%"]) {
      assertProblem(await rawRequest(tessera.baseUrl, path), 400, "invalid_request", path);
    }
    // Symphony's prefixes answer in Symphony's shape, as for every other error there.
    const symphony = await rawRequest(tessera.baseUrl, "/agent/v5/datafeeds/%ZZ");
    assert.equal(symphony.status, 400, symphony.text);
    assert.deepEqual([symphony.body?.code, symphony.body?.reason], [400, "invalid_request"]);
  });

  it("refuses path ids too large to be held exactly with 400 invalid_id", async () => {
    const token = await tessera.login();
    for (const id of ["9999999999999999", "9007199254740993"]) {
      const response = await rawRequest(tessera.baseUrl, `/admin/orgs/${tessera.orgId}/users/${id}`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ role: "member" }),
      });
      assertProblem(response, 400, "invalid_id", id);
    }
  });

  it("does not renew on HEAD /user/authenticate: the token is not retired", async () => {
    const token = await tessera.login();
    const head = await rawRequest(tessera.baseUrl, "/user/authenticate", {
      method: "HEAD",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(head.status >= 400 && head.status < 500, String(head.status));
    // A renewal would have started the 30-s grace after which the presented token dies.
    await tessera.clock.advance(31_000);
    assert.equal((await tessera.request("/user/users/me", { token })).status, 200);
  });

  it("never fails a bodiless GET, DELETE or POST for sending Content-Type: application/json", async () => {
    const token = await tessera.login();
    const json = { "content-type": "application/json", authorization: `Bearer ${token}` };
    for (const path of ["/user/users/me", "/user/orgs", "/healthz", "/readyz"]) {
      const response = await rawRequest(tessera.baseUrl, path, { headers: json });
      assert.equal(response.status, 200, `${path} ${response.text}`);
    }
    const renewed = await rawRequest(tessera.baseUrl, "/user/authenticate", { headers: json });
    assert.equal(renewed.status, 200, renewed.text);
    const successor = renewed.body.token as string;
    // Content-Length: 0 and no Content-Length at all (chunked with no chunks) are both "no body".
    const renewedAgain = await rawRequest(tessera.baseUrl, "/user/authenticate", {
      headers: { ...json, authorization: `Bearer ${successor}` },
      body: "",
    });
    assert.equal(renewedAgain.status, 200, renewedAgain.text);
    const logout = await rawRequest(tessera.baseUrl, "/user/authenticate", {
      method: "DELETE",
      headers: { ...json, authorization: `Bearer ${renewedAgain.body.token}` },
      body: "",
    });
    assert.equal(logout.status, 204, logout.text);
    const chunkedLogout = await rawExchange(
      tessera.baseUrl,
      [
        "DELETE /user/authenticate HTTP/1.1",
        "Host: localhost",
        `Authorization: Bearer ${await tessera.login()}`,
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
        "Connection: close",
        "",
        "0",
        "",
        "",
      ].join("\r\n"),
    );
    assert.match(chunkedLogout, /^HTTP\/1\.1 204 /);
    // Every POST route needs a body: without one the answer is 400 for the missing body, not 415 for the header.
    const bodiless = await rawRequest(tessera.baseUrl, "/user/password", { method: "POST", headers: json, body: "" });
    assertProblem(bodiless, 400, "invalid_request");
  });
});
