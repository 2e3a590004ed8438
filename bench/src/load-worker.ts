/**
 * The load generator, always run as its own process (`node --import tsx load-worker.ts <spec>`),
 * so that its CPU is not the server's event loop. Prints one JSON line: the measured rounds.
 */
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import type { LoadSpec } from "./load-spec.ts";
import { percentile, type Round } from "./stats.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;

function tokenRotation(file: string): () => string {
  const tokens = readFileSync(file, "utf8").split("\n").filter(Boolean);
  let next = 0;
  return () => {
    const token = tokens[next] ?? "";
    next = (next + 1) % tokens.length;
    return token;
  };
}

const nextToken = spec.tokenFile ? tokenRotation(spec.tokenFile) : undefined;

async function httpRound(seconds: number): Promise<Round> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: seconds,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
    requests: [
      {
        method: spec.method,
        headers: spec.headers ?? {},
        ...(spec.body === undefined ? {} : { body: spec.body }),
        ...(nextToken
          ? {
              setupRequest: (request) => ({
                ...request,
                headers: { ...request.headers, authorization: `Bearer ${nextToken()}` },
              }),
            }
          : {}),
      },
    ],
  });
  return {
    rate: result["2xx"] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** One request on a fresh TLS connection: no agent, no session ticket, so a full handshake each time. */
function handshakeAndRequest(url: URL, tls: NonNullable<LoadSpec["tls"]>): Promise<number> {
  return new Promise((resolve) => {
    const request = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: spec.method,
        agent: false,
        cert: tls.cert,
        key: tls.key,
        ca: tls.ca,
        headers: { connection: "close", ...(spec.headers ?? {}) },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? 0));
        response.on("error", () => resolve(0));
      },
    );
    request.on("error", () => resolve(0));
    request.end();
  });
}

async function tlsRound(seconds: number): Promise<Round> {
  const tls = spec.tls;
  if (!tls) throw new Error("a tls load needs spec.tls");
  const url = new URL(spec.url);
  const latencies: number[] = [];
  let ok = 0;
  let failures = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      const status = await handshakeAndRequest(url, tls);
      latencies.push(performance.now() - begin);
      if (status >= 200 && status < 300) ok++;
      else failures++;
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  return { rate: ok / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), failures };
}

const round = spec.kind === "tls" ? tlsRound : httpRound;
if (spec.warmupSeconds > 0) await round(spec.warmupSeconds);
const rounds: Round[] = [];
for (let index = 0; index < spec.rounds; index++) rounds.push(await round(spec.roundSeconds));
process.stdout.write(`${JSON.stringify(rounds)}\n`);
