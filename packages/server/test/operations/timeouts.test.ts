import assert from "node:assert/strict";
import { connect as connectTcp, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { connect as connectTls, TLSSocket } from "node:tls";
import { addBot, agentLogin, agentRequest, createFeed } from "@tessera/test-kit/agent.ts";
import { startTestInstance, type TestInstance } from "@tessera/test-kit/instance.ts";

const requestTimeoutMs = 500;
const headersTimeoutMs = 300;
/** Far beyond both timeouts, as the 30-s default is. */
const longPollMs = 20_000;

interface Trickle {
  /** Real milliseconds until the server closed the connection, or undefined if it was still open at `giveUpMs`. */
  closedAfterMs: number | undefined;
  answer: string;
}

/**
 * Sends `head`, then one byte of `drip` every 100 ms, the way a slow-loris client does, until
 * the server closes the connection or `giveUpMs` passes.
 */
function trickle(open: () => Socket, head: string, drip: string, giveUpMs = 4_000): Promise<Trickle> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = open();
    const chunks: Buffer[] = [];
    let index = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedAfterMs: number | undefined) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedAfterMs, answer: Buffer.concat(chunks).toString("latin1") });
    };
    const giveUp = setTimeout(() => finish(undefined), giveUpMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("close", () => finish(Date.now() - started));
    socket.on("error", () => {});
    const begin = () => {
      socket.write(head);
      timer = setInterval(() => {
        if (socket.writable) socket.write(drip[index++ % drip.length] ?? "x");
      }, 100);
    };
    socket.once(socket instanceof TLSSocket ? "secureConnect" : "connect", begin);
  });
}

describe("request, header and idle timeouts", () => {
  let tessera: TestInstance;
  before(async () => {
    tessera = await startTestInstance({
      mtls: true,
      env: {
        TESSERA_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
        TESSERA_HEADERS_TIMEOUT_MS: String(headersTimeoutMs),
      },
      datafeedTiming: { longPollMs, redeliveryMs: 30_000 },
    });
  });
  after(() => tessera.close());

  const tcp = () => {
    const { hostname, port } = new URL(tessera.baseUrl);
    return connectTcp({ host: hostname, port: Number(port) });
  };
  const tls = (url: string) => () => {
    const { hostname, port } = new URL(url);
    return connectTls({ host: hostname, port: Number(port), ca: tessera.serverCaPem, servername: "localhost" });
  };
  const slowBody =
    "POST /user/authenticate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
  const slowHead = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n";

  it("cuts a body trickled byte by byte on every listener, with 408 and a close", async () => {
    for (const [listener, open] of [
      ["http", tcp],
      ["pod mTLS", tls(tessera.podMtlsUrl)],
      ["key-manager mTLS", tls(tessera.kmMtlsUrl)],
    ] as const) {
      const result = await trickle(open, slowBody, '{"email":"a@example.com"');
      assert.ok(result.closedAfterMs !== undefined, `${listener}: still open after 4 s`);
      assert.ok(result.closedAfterMs < 3_000, `${listener}: closed after ${result.closedAfterMs} ms`);
      // The head was read: the answer is complete, in the path's error shape.
      assert.match(result.answer, /^HTTP\/1\.1 408 /, `${listener}: ${result.answer}`);
      assert.match(result.answer, /"code":"request_timeout"/, `${listener}: ${result.answer}`);
    }
  });

  it("cuts headers trickled byte by byte", async () => {
    const result = await trickle(tcp, slowHead, "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    assert.ok(result.closedAfterMs !== undefined && result.closedAfterMs < 3_000, String(result.closedAfterMs));
    assert.ok(result.answer === "" || /^HTTP\/1\.1 408 /.test(result.answer), result.answer);
  });

  it("leaves a datafeed long-poll open well past the request timeout", async () => {
    const adminToken = await tessera.login();
    const bot = await addBot(tessera, adminToken);
    const tokens = await agentLogin(tessera, bot);
    const feedId = await createFeed(tessera, tokens);
    const reading = agentRequest(tessera, tokens, `/agent/v5/datafeeds/${feedId}/read`, { body: { ackId: "" } });
    await tessera.clock.whenTimerPending();
    // Real time, past the request and header timeouts and several of Node's checks of them.
    await new Promise((resolve) => setTimeout(resolve, 4 * requestTimeoutMs));
    await tessera.clock.advance(longPollMs);
    const answer = await reading;
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.body.events, []);
  });
});
