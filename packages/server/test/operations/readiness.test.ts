import assert from "node:assert/strict";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { freePort } from "@tessera/test-kit/ports.ts";
import { spawnServer } from "@tessera/test-kit/spawn-server.ts";
import { createTestDatabase, testStore } from "@tessera/test-kit/test-database.ts";

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("readiness of a process started as an operator starts it", () => {
  it("never answers /readyz 200 before the mutual-TLS listeners accept connections", async () => {
    const database = testStore === "postgres" ? await createTestDatabase() : undefined;
    const [http, pod, keymanager] = [await freePort(), await freePort(), await freePort()];
    let starting = true;
    const early: string[] = [];
    // Asks as fast as it can from the moment the HTTP port opens until the banner is printed.
    const polling = (async () => {
      while (starting) {
        try {
          const response = await fetch(`http://127.0.0.1:${http}/readyz`);
          await response.arrayBuffer();
          if (response.status === 200) {
            for (const [name, port] of [
              ["pod", pod],
              ["keymanager", keymanager],
            ] as const) {
              if (!(await accepts(port))) early.push(`${name} port ${port} closed after a 200`);
            }
          } else assert.equal(response.status, 503);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
    })();
    const server = await spawnServer({
      TESSERA_HTTP_ADDR: `127.0.0.1:${http}`,
      TESSERA_POD_MTLS_ADDR: `127.0.0.1:${pod}`,
      TESSERA_KM_MTLS_ADDR: `127.0.0.1:${keymanager}`,
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    starting = false;
    await polling;
    try {
      assert.deepEqual(early, []);
      const response = await server.request("/readyz");
      assert.equal(response.status, 200, response.text);
    } finally {
      await server.stop();
      await database?.drop();
    }
  });
});
