/**
 * Baseline: a bare HTTPS server asking for a client certificate (as Tessera's mTLS listener does),
 * answering a small JSON with the certificate's CN. Arguments: server certificate and key files.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { TLSSocket } from "node:tls";

const [certFile = "", keyFile = ""] = process.argv.slice(2);
const server = createServer(
  { cert: readFileSync(certFile), key: readFileSync(keyFile), requestCert: true, rejectUnauthorized: false },
  (request, response) => {
    const peer = (request.socket as TLSSocket).getPeerCertificate();
    const body = JSON.stringify({ name: "sessionToken", cn: peer.subject?.CN ?? null });
    response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    response.end(body);
  },
);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`listening https://127.0.0.1:${address.port}\n`);
});
