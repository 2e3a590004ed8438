/**
 * `npm run bench [-- --quick] [-- --cpu-prof]`: Tessera's hot paths against baselines measured in
 * the same run. Every server and every load generator is its own process. Prints a table and
 * writes bench/results/latest.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCaCertificate,
  exportPrivateKeyPem,
  generateRsaKeyPair,
  issueCertificate,
  validFor,
} from "../../packages/server/src/certificates/generate.ts";
import type { LoadSpec } from "./load-spec.ts";
import { benchDir, residentBytes, runLoad, spawnTs, stop, waitForLine } from "./processes.ts";
import { evaluateTargets, printTable, type Scenario } from "./report.ts";
import { type Round, summarize } from "./stats.ts";
import { adminEmail, adminPassword, call, seedSessions, startTessera, writeTokenFile } from "./tessera.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const profile = args.includes("--cpu-prof");
const timing = quick
  ? { warmupSeconds: 0.5, rounds: 3, roundSeconds: 1 }
  : { warmupSeconds: 3, rounds: 3, roundSeconds: 5 };
const manySessions = quick ? 10_000 : 1_000_000;
const fewSessions = 1_000;
const validationConnections = 50;
const loginConnections = 8;
const handshakeConcurrency = 8;

const started = Date.now();
const loadBefore = loadavg();
const work = mkdtempSync(join(tmpdir(), "tessera-bench-"));
const resultsDir = join(benchDir, "results");
mkdirSync(resultsDir, { recursive: true });
const scenarios: Scenario[] = [];
const rss: Record<string, number> = {};

function log(line: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
}

async function measure(name: string, group: string, spec: Omit<LoadSpec, keyof typeof timing>): Promise<Scenario> {
  log(`${name}…`);
  const rounds = await runLoad({ ...timing, ...spec });
  return record(name, group, rounds, spec.connections);
}

function record(name: string, group: string, rounds: Round[], connections: number): Scenario {
  const scenario: Scenario = {
    name,
    group,
    connections,
    rate: summarize(rounds.map((round) => round.rate)),
    p50Ms: summarize(rounds.map((round) => round.p50Ms)),
    p99Ms: summarize(rounds.map((round) => round.p99Ms)),
    failures: rounds.reduce((sum, round) => sum + round.failures, 0),
    rounds,
  };
  scenarios.push(scenario);
  log(
    `  ${scenario.rate.median.toFixed(0)}/s, p99 ${scenario.p99Ms.median.toFixed(1)} ms, failures ${scenario.failures}`,
  );
  return scenario;
}

async function startBaseline(file: string, args: string[] = []) {
  const child = spawnTs(join(benchDir, "src/baselines", file), args);
  const match = await waitForLine(child, /^(?:listening|ready) (.*)$/);
  return { child, line: match[1] ?? "" };
}

try {
  // --- Baselines ---
  const bare = await startBaseline("bare-http.ts");
  await measure("bare node:http", "baseline", {
    kind: "http",
    url: bare.line,
    method: "GET",
    connections: validationConnections,
  });
  await stop(bare.child);

  log("raw argon2 verify…");
  const argon2 = spawnTs(join(benchDir, "src/baselines/argon2-rate.ts"), [
    JSON.stringify({ concurrency: loginConnections, ...timing }),
  ]);
  const argon2Line = await waitForLine(argon2, /^\[.*\]$/, 300_000);
  record("raw argon2id verify", "baseline", JSON.parse(argon2Line[0]) as Round[], loginConnections);

  const betterAuthDir = mkdtempSync(join(work, "better-auth-"));
  const betterAuth = await startBaseline("better-auth-server.ts", [betterAuthDir]);
  const peer = JSON.parse(betterAuth.line) as { url: string; email: string; password: string; cookie: string };
  await measure("Better Auth get-session", "peer", {
    kind: "http",
    url: `${peer.url}/api/auth/get-session`,
    method: "GET",
    headers: { cookie: peer.cookie },
    connections: validationConnections,
  });
  await measure("Better Auth sign-in", "peer", {
    kind: "http",
    url: `${peer.url}/api/auth/sign-in/email`,
    method: "POST",
    headers: { "content-type": "application/json", origin: peer.url },
    body: JSON.stringify({ email: peer.email, password: peer.password }),
    connections: loginConnections,
  });
  await stop(betterAuth.child);

  // --- Tessera: first start, a service user and its CA, then the sessions ---
  log("certificates (RSA-4096 CA and client)…");
  const [caKeys, clientKeys] = await Promise.all([generateRsaKeyPair(4096), generateRsaKeyPair(4096)]);
  const caPem = await createCaCertificate({ keys: caKeys, commonName: "Bench Root CA", validity: validFor(30) });
  const clientCert = await issueCertificate({
    issuerCertificatePem: caPem,
    issuerPrivateKey: caKeys.privateKey,
    subjectPublicKey: clientKeys.publicKey,
    commonName: "bench-service",
    validity: validFor(30),
    usage: "client",
  });
  const clientKey = await exportPrivateKeyPem(clientKeys.privateKey);

  const dataDir = join(work, "tessera");
  const databaseFile = join(dataDir, "tessera.db");
  let tessera = await startTessera(dataDir);
  const login = (await call(`${tessera.httpUrl}/user/authenticate`, {
    method: "POST",
    body: { email: adminEmail, password: adminPassword },
  })) as { token: string; orgId: number };
  await call(`${tessera.httpUrl}/admin/orgs/${login.orgId}/trusted-cas`, {
    method: "POST",
    token: login.token,
    body: { pem: caPem },
    expect: 201,
  });
  await call(`${tessera.httpUrl}/admin/orgs/${login.orgId}/users`, {
    method: "POST",
    token: login.token,
    body: { email: "bench-service@example.com", role: "service", kind: "service", username: "bench-service" },
    expect: 201,
  });
  await stop(tessera.child);

  log(`seeding ${fewSessions} sessions…`);
  const few = seedSessions(databaseFile, fewSessions, { validation: 1_000, renewal: 0 });
  const fewTokens = writeTokenFile(join(work, "few.tokens"), few.validation);
  const nodeArgs = profile ? ["--cpu-prof", `--cpu-prof-dir=${join(resultsDir, "profiles")}`] : [];
  tessera = await startTessera(dataDir, nodeArgs);
  const introspected = few.validation[0] ?? "";

  const validationScenarios = async (label: string, tokenFile: string) => {
    const me = await measure(`validation GET /user/users/me, ${label}`, `validation-${label}`, {
      kind: "http",
      url: `${tessera.httpUrl}/user/users/me`,
      method: "GET",
      tokenFile,
      connections: validationConnections,
    });
    await measure(`introspection, ${label}`, `validation-${label}`, {
      kind: "http",
      url: `${tessera.httpUrl}/oauth2/introspect`,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: introspected }),
      tokenFile,
      connections: validationConnections,
    });
    await measure(`forward-auth, ${label}`, `validation-${label}`, {
      kind: "http",
      url: `${tessera.httpUrl}/auth/forward`,
      method: "GET",
      tokenFile,
      connections: validationConnections,
    });
    return me;
  };
  const fewLabel = `${fewSessions.toLocaleString("en")} sessions`;
  const meFew = await validationScenarios(fewLabel, fewTokens);
  rss.fewSessions = residentBytes(tessera.pid);

  const loginBody = JSON.stringify({ email: adminEmail, password: adminPassword });
  await measure("password login", "login", {
    kind: "http",
    url: `${tessera.httpUrl}/user/authenticate`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: loginBody,
    connections: loginConnections,
  });

  // Validation at a fixed rate (a quarter of its capacity), alone and then beside a login storm.
  const stormRate = Math.max(100, Math.round(meFew.rate.median / 4));
  const steadyValidation = {
    kind: "http" as const,
    url: `${tessera.httpUrl}/user/users/me`,
    method: "GET" as const,
    tokenFile: fewTokens,
    connections: 10,
    overallRate: stormRate,
  };
  await measure(`validation at ${stormRate}/s, idle`, "storm", steadyValidation);
  log("login storm…");
  const storm = runLoad({
    kind: "http",
    url: `${tessera.httpUrl}/user/authenticate`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: loginBody,
    connections: loginConnections * 2,
    warmupSeconds: 0,
    rounds: 1,
    roundSeconds: Math.ceil(timing.warmupSeconds + timing.rounds * timing.roundSeconds + 3),
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await measure(`validation at ${stormRate}/s, during a login storm`, "storm", steadyValidation);
  record("login storm (logins)", "storm", await storm, loginConnections * 2);

  // Certificate login, a full handshake each, against the raw mutual-TLS baseline with the same certificates.
  const ca = readFileSync(join(dataDir, "tls/ca.pem"), "utf8");
  const tls = { cert: clientCert, key: clientKey, ca };
  await measure("certificate login (full handshake)", "certificate", {
    kind: "tls",
    url: `${tessera.podMtlsUrl}/sessionauth/v1/authenticate`,
    method: "POST",
    tls,
    connections: handshakeConcurrency,
  });
  const mtls = await startBaseline("mtls-server.ts", [
    join(dataDir, "tls/server.pem"),
    join(dataDir, "tls/server.key"),
  ]);
  await measure("raw mutual TLS (full handshake)", "baseline", {
    kind: "tls",
    url: `${mtls.line}/`,
    method: "POST",
    tls,
    connections: handshakeConcurrency,
  });
  await stop(mtls.child);
  await stop(tessera.child);

  // --- Many sessions ---
  log(`seeding ${(manySessions - fewSessions).toLocaleString("en")} more sessions…`);
  const seedStart = Date.now();
  const many = seedSessions(databaseFile, manySessions - fewSessions, {
    validation: 1_000,
    renewal: quick ? 5_000 : 250_000,
  });
  log(`  seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);
  const manyTokens = writeTokenFile(join(work, "many.tokens"), many.validation);
  const renewalTokens = writeTokenFile(join(work, "renewal.tokens"), many.renewal);
  tessera = await startTessera(dataDir, nodeArgs);
  const manyLabel = `${manySessions.toLocaleString("en")} sessions`;
  await validationScenarios(manyLabel, manyTokens);
  rss.manySessions = residentBytes(tessera.pid);
  await measure("renewal GET /user/authenticate", "renewal", {
    kind: "http",
    url: `${tessera.httpUrl}/user/authenticate`,
    method: "GET",
    tokenFile: renewalTokens,
    connections: validationConnections,
  });
  await stop(tessera.child);

  const targets = evaluateTargets(scenarios, {
    fewLabel,
    manyLabel,
    rssPerSessionBytes: (rss.manySessions - rss.fewSessions) / (manySessions - fewSessions),
  });
  const report = {
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version },
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    durationSeconds: (Date.now() - started) / 1000,
    timing,
    sessions: { few: fewSessions, many: manySessions },
    rssBytes: rss,
    scenarios,
    targets,
  };
  printTable(report);
  writeFileSync(join(resultsDir, quick ? "quick.json" : "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
