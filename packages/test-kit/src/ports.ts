import { createServer } from "node:net";

/**
 * A loopback port nobody listens on right now, for a server whose URL must be known before it
 * starts (it binds the port a moment later).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
