import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";
import { rawExchange } from "@tessera/test-kit/raw-http.ts";

/** An answer written on a raw socket, split into status, headers and body. */
function parseAnswer(answer: string): { status: number; headers: string; body: string } {
  const end = answer.indexOf("\r\n\r\n");
  assert.ok(end > 0, `a complete head: ${answer.slice(0, 200)}`);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]),
    headers: answer.slice(0, end).toLowerCase(),
    body: answer.slice(end + 4),
  };
}

const oversized = `X-Filler: ${"a".repeat(20_000)}\r\n`;

describe("requests Node's parser refuses", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance({ mtls: true });
  });
  after(() => tessera.close());

  it("answers 431 and 400 in Symphony's shape on Symphony's prefixes", async () => {
    const cases = [
      { bytes: `GET /pod/v2/sessioninfo HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`, status: 431 },
      { bytes: "GET /agent/v5/datafeeds HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n", status: 400 },
      { bytes: `POST /login/pubkey/authenticate HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`, status: 431 },
    ];
    for (const { bytes, status } of cases) {
      const answer = parseAnswer(await rawExchange(tessera.baseUrl, bytes));
      const context = `${bytes.slice(0, 40)} → ${answer.headers} ${answer.body.slice(0, 200)}`;
      assert.equal(answer.status, status, context);
      assert.match(answer.headers, /content-type: application\/json; charset=utf-8/, context);
      const body = JSON.parse(answer.body);
      assert.equal(body.code, status, context);
      assert.equal(typeof body.reason, "string", context);
      assert.equal(typeof body.message, "string", context);
    }
  });

  it("keeps problem+json on Tessera's own paths", async () => {
    const answer = parseAnswer(
      await rawExchange(tessera.baseUrl, `GET /user/users/me HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`),
    );
    assert.equal(answer.status, 431);
    assert.match(answer.headers, /content-type: application\/problem\+json/);
    assert.equal(JSON.parse(answer.body).code, "request_header_too_large");
  });

  it("sends no body after the head of a HEAD request, whatever fails", async () => {
    const cases = [
      `HEAD /pod/v2/sessioninfo HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`,
      `HEAD /user/users/me HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`,
      "HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nBad Header Line\r\n\r\n",
      // Failures after routing: Fastify (through Node) drops the body itself.
      "HEAD /no-such-route HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      "HEAD /user/users/me HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      "HEAD /pod/v2/sessioninfo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
      "HEAD /user/%ZZ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    ];
    for (const bytes of cases) {
      const answer = parseAnswer(await rawExchange(tessera.baseUrl, bytes));
      assert.ok(answer.status >= 400 && answer.status < 500, `${bytes.slice(0, 40)} → ${answer.status}`);
      assert.equal(answer.body, "", `${bytes.slice(0, 40)} → ${answer.headers}`);
    }
  });

  it("sends no body when the head arrives in several packets and its request line is gone", async () => {
    const { connect } = await import("node:net");
    const { hostname, port } = new URL(tessera.baseUrl);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) });
      const chunks: Buffer[] = [];
      socket.on("data", (chunk) => chunks.push(chunk));
      socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
      socket.on("error", reject);
      socket.write("HEAD /pod/v2/sessioninfo HTTP/1.1\r\nHost: localhost\r\n");
      setTimeout(() => socket.write(`${oversized}\r\n`), 100);
    });
    const parsed = parseAnswer(answer);
    assert.equal(parsed.status, 431);
    assert.equal(parsed.body, "");
    assert.match(parsed.headers, /content-length: 0/);
  });

  it("does the same on the mutual-TLS listeners", async () => {
    const { connect } = await import("node:tls");
    const exchange = (url: string, bytes: string) =>
      new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(url);
        const socket = connect({
          host: hostname,
          port: Number(port),
          ca: tessera.serverCaPem,
          servername: "localhost",
        });
        const chunks: Buffer[] = [];
        socket.on("secureConnect", () => socket.write(bytes));
        socket.on("data", (chunk) => chunks.push(chunk));
        socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
        socket.on("error", (error) =>
          chunks.length > 0 ? resolve(Buffer.concat(chunks).toString("latin1")) : reject(error),
        );
      });
    const symphony = parseAnswer(
      await exchange(
        tessera.podMtlsUrl,
        `GET /sessionauth/v1/authenticate HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`,
      ),
    );
    assert.equal(symphony.status, 431);
    assert.equal(JSON.parse(symphony.body).reason, "request_header_too_large");
    const head = parseAnswer(
      await exchange(
        tessera.kmMtlsUrl,
        `HEAD /keyauth/v1/authenticate HTTP/1.1\r\nHost: localhost\r\n${oversized}\r\n`,
      ),
    );
    assert.equal(head.status, 431);
    assert.equal(head.body, "");
  });
});
