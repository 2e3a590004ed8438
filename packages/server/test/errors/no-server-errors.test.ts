import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { countRows, openSession } from "@tessera/test-kit/fixtures.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { type RawResponse, rawExchange, rawRequest } from "@tessera/test-kit/raw-http.ts";

const badBodies: { label: string; body?: string; contentType?: string }[] = [
  { label: "no body" },
  { label: "empty JSON body", body: "", contentType: "application/json" },
  { label: "malformed JSON", body: '{"a":', contentType: "application/json" },
  { label: "JSON null", body: "null", contentType: "application/json" },
  { label: "JSON array", body: "[1,2,3]", contentType: "application/json" },
  { label: "JSON string", body: '"text"', contentType: "application/json" },
  { label: "JSON number", body: "12345678901234567890", contentType: "application/json" },
  { label: "empty object", body: "{}", contentType: "application/json" },
  {
    label: "wrong types",
    body: '{"email":1,"password":[],"orgUserId":"1","name":{},"selectedOrg":true}',
    contentType: "application/json",
  },
  { label: "__proto__", body: '{"__proto__":{"x":1}}', contentType: "application/json" },
  { label: "deep nesting", body: `${"[".repeat(5000)}${"]".repeat(5000)}`, contentType: "application/json" },
  { label: "oversized", body: JSON.stringify({ name: "x".repeat(70_000) }), contentType: "application/json" },
  { label: "text/plain", body: "hello", contentType: "text/plain" },
  { label: "form", body: "a=1&b=2", contentType: "application/x-www-form-urlencoded" },
  { label: "invalid content type", body: "{}", contentType: "this is not a media type" },
  {
    label: "invalid UTF-8",
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString("latin1"),
    contentType: "application/json",
  },
];

const badIds = ["abc", "0", "-1", "1.5", "99999999999999999999", "%00", "%2e%2e", "1e3", "%201"];

/** The contract's Symphony prefixes: the routes under them, and only those, speak Symphony's error shape. */
const symphonyPrefixes = /^\/(sessionauth|keyauth|login|pod|agent|relay)\//;

interface DocumentedOperation {
  responses: Record<string, { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> }>;
}

interface DocumentedRequest {
  method: string;
  path: string;
  /** The route documents Symphony's error body {code, message, reason}. */
  symphony: boolean;
}

/** Every documented route, with path parameters replaced by garbage. */
async function documentedRequests(tessera: TestInstance): Promise<DocumentedRequest[]> {
  const document = (await tessera.request("/openapi.json")).body as {
    paths: Record<string, Record<string, DocumentedOperation>>;
  };
  const requests: DocumentedRequest[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const errorBody = operation.responses["4XX"]?.content?.["application/json"]?.schema;
      const symphony = errorBody?.properties?.reason !== undefined;
      assert.equal(symphony, symphonyPrefixes.test(template), `${method} ${template}: the error shape of its prefix`);
      if (!template.includes("{")) {
        requests.push({ method: method.toUpperCase(), path: template, symphony });
        continue;
      }
      for (const id of badIds)
        requests.push({ method: method.toUpperCase(), path: template.replace(/\{[^}]+\}/g, id), symphony });
    }
  }
  return requests;
}

/** The documented error shape: problem+json on Tessera's routes, Symphony's {code, message, reason} on its own. */
function assertErrorShape(symphony: boolean, response: RawResponse, context: string): void {
  if (symphony) {
    assert.equal(response.headers["content-type"], "application/json; charset=utf-8", context);
    assert.equal(response.body?.code, response.status, context);
    assert.equal(typeof response.body?.reason, "string", context);
    return;
  }
  assert.equal(response.headers["content-type"], "application/problem+json; charset=utf-8", context);
  assert.equal(typeof response.body?.code, "string", context);
}

const authVariants: Record<string, string>[] = [
  {},
  { authorization: `Bearer tsu_${"A".repeat(43)}` },
  { "x-api-key": "tsk_garbage" },
];

describe("no 5xx for any client mistake", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("answers a battery of bad input on every documented route with a 4xx (or a success) and writes nothing", async () => {
    const requests = await documentedRequests(tessera);
    assert.ok(requests.some((request) => request.path === "/user/authenticate" && request.method === "POST"));
    const before = await countRows(tessera);
    let sent = 0;
    for (const { method, path, symphony } of requests) {
      for (const auth of authVariants) {
        for (const { label, body, contentType } of badBodies) {
          const headers: Record<string, string> = { ...auth };
          if (contentType) headers["content-type"] = contentType;
          const response = await rawRequest(tessera.baseUrl, path, { method, headers, body });
          sent++;
          const context = `${method} ${path} [${label}] ${JSON.stringify(auth)}: ${response.status} ${response.text.slice(0, 200)}`;
          assert.ok(response.status < 500, context);
          // HEAD answers carry no body to inspect.
          if (response.status >= 400 && method !== "HEAD") assertErrorShape(symphony, response, context);
        }
      }
    }
    assert.ok(sent > 300);
    // Refusals are audited on purpose (failed logins, refused sign-ons); nothing else is written.
    const { audit_events: auditBefore, ...stateBefore } = before;
    const { audit_events: auditAfter, ...stateAfter } = await countRows(tessera);
    assert.deepEqual(stateAfter, stateBefore);
    const added = await tessera.ctx.db
      .selectFrom("audit_events")
      .select("type")
      .orderBy("id", "desc")
      .limit(Math.max(0, (auditAfter ?? 0) - (auditBefore ?? 0)))
      .execute();
    for (const { type } of added) assert.match(type, /\.failed$/, `only refusals are audited, not ${type}`);
  });

  it("answers the same battery with a valid token without a 5xx", async () => {
    const requests = await documentedRequests(tessera);
    for (const { method, path } of requests) {
      for (const { label, body, contentType } of badBodies) {
        // Every request gets a fresh session: a logout in the battery must not hide later answers.
        const token = await openSession(tessera);
        const headers: Record<string, string> = { authorization: `Bearer ${token}` };
        if (contentType) headers["content-type"] = contentType;
        const response = await rawRequest(tessera.baseUrl, path, { method, headers, body });
        const context = `${method} ${path} [${label}]: ${response.status} ${response.text.slice(0, 200)}`;
        assert.ok(response.status < 500, context);
      }
    }
  });

  it("answers malformed HTTP and oversized headers with a 4xx problem", async () => {
    const cases = [
      "GET /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n",
      "BREW /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
      `GET /user/users/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer tsu_${"a".repeat(20_000)}\r\n\r\n`,
      "GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    ];
    for (const bytes of cases) {
      const answer = await rawExchange(tessera.baseUrl, bytes);
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      assert.ok(status >= 400 && status < 500, `${bytes.slice(0, 40)} → ${answer.slice(0, 120)}`);
      assert.match(answer, /content-type: application\/problem\+json/i, answer.slice(0, 200));
    }
  });
});
