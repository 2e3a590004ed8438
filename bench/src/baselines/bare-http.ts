/** Baseline: the least a Node.js HTTP server can do per request (a small JSON answer). */
import { createServer } from "node:http";

const body = JSON.stringify({ id: 1, email: "admin@example.com", role: "owner" });
const server = createServer((_request, response) => {
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`listening http://127.0.0.1:${address.port}\n`);
});
