import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { adminEmail, startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

/** The value of one Prometheus sample, or undefined when the series is absent. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? "";
    const present = Object.fromEntries(
      [...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1], match[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => present[key] === value)) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

describe("operations endpoints", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance();
  });
  after(() => tessera.close());

  it("/healthz and /readyz answer 200 without a token", async () => {
    const health = await tessera.request("/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: "ok" });
    const ready = await tessera.request("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: "ready" });
  });

  it("/metrics counts requests by route template, logins by outcome, and live sessions", async () => {
    const metricsBefore = (await tessera.request("/metrics")).text;
    const liveBefore = sample(metricsBefore, "tessera_live_sessions") ?? Number.NaN;

    const token = await tessera.login();
    await tessera.request("/user/authenticate", { body: { email: adminEmail, password: "wrong password!!" } });
    await tessera.request("/user/authenticate", {
      body: { email: "nobody@example.com", password: "wrong password!!" },
    });
    await tessera.request("/user/users/me", { token });
    await tessera.request("/no/such/route");

    const response = await tessera.request("/metrics");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
    const metrics = response.text;
    assert.equal(sample(metrics, "tessera_logins_total", { outcome: "success" }), 1);
    assert.equal(sample(metrics, "tessera_logins_total", { outcome: "invalid_credentials" }), 2);
    assert.equal(
      sample(metrics, "tessera_http_requests_total", { method: "POST", route: "/user/authenticate", status: "401" }),
      2,
    );
    assert.equal(
      sample(metrics, "tessera_http_requests_total", { method: "GET", route: "/user/users/me", status: "200" }),
      1,
    );
    // Unmatched paths share one series, so scanners cannot grow the label set without bound.
    assert.equal(sample(metrics, "tessera_http_requests_total", { route: "unmatched", status: "404" }), 1);
    assert.ok(!metrics.includes("/no/such/route"));
    assert.ok(
      (sample(metrics, "tessera_http_request_duration_seconds_count", { method: "GET", route: "/user/users/me" }) ??
        0) >= 1,
    );
    assert.equal(sample(metrics, "tessera_live_sessions"), liveBefore + 1);

    await tessera.request("/user/authenticate", { method: "DELETE", token });
    assert.equal(sample((await tessera.request("/metrics")).text, "tessera_live_sessions"), liveBefore);
  });

  it("/metrics stops counting a session once it has expired", async () => {
    const before = sample((await tessera.request("/metrics")).text, "tessera_live_sessions") ?? Number.NaN;
    await tessera.login();
    assert.equal(sample((await tessera.request("/metrics")).text, "tessera_live_sessions"), before + 1);
    await tessera.clock.advanceSeconds(900);
    assert.equal(sample((await tessera.request("/metrics")).text, "tessera_live_sessions"), 0);
  });

  it("/openapi.json documents the user paths and both security schemes", async () => {
    const response = await tessera.request("/openapi.json");
    assert.equal(response.status, 200);
    const document = response.body;
    assert.match(document.openapi, /^3\./);
    for (const [path, method] of [
      ["/user/authenticate", "post"],
      ["/user/authenticate", "get"],
      ["/user/authenticate", "delete"],
      ["/user/users/me", "get"],
      ["/user/orgs", "get"],
      ["/user/password", "post"],
      ["/user/apiKey", "post"],
      ["/healthz", "get"],
      ["/readyz", "get"],
    ] as const) {
      assert.ok(document.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
    }
    assert.deepEqual(document.components.securitySchemes.bearerAuth, {
      type: "http",
      scheme: "bearer",
      description: "A user session token (tsu_…)",
    });
    assert.equal(document.components.securitySchemes.apiKey.type, "apiKey");
    assert.equal(document.components.securitySchemes.apiKey.in, "header");
    assert.equal(document.components.securitySchemes.apiKey.name, "x-api-key");
    assert.deepEqual(document.paths["/user/users/me"].get.security, [{ bearerAuth: [] }, { apiKey: [] }]);
    // The same schemas that validate requests: login refuses unknown fields, and says so.
    const login = document.paths["/user/authenticate"].post;
    const schema = login.requestBody.content["application/json"].schema;
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.required.sort(), ["email", "password"]);
    assert.ok(login.responses["200"]);
  });

  it("/docs serves the interactive documentation page", async () => {
    const response = await fetch(`${tessera.baseUrl}/docs`, { redirect: "follow" });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
    const html = await response.text();
    assert.match(html, /swagger/i);
    const initializer = await fetch(`${tessera.baseUrl}/docs/static/swagger-initializer.js`);
    assert.equal(initializer.status, 200);
    const json = await fetch(`${tessera.baseUrl}/docs/json`);
    assert.equal(json.status, 200);
    assert.ok(((await json.json()) as { paths: Record<string, unknown> }).paths["/user/authenticate"]);
  });
});
