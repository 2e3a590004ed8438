/**
 * Peer baseline: Better Auth on SQLite (better-sqlite3, its Kysely adapter) behind node:http,
 * email and password sign-in with its hasher replaced by argon2id at Tessera's parameters, so
 * both pay the same password cost. Argument: a data directory. Prints the URL, the user's
 * credentials and a session cookie once ready.
 */
import { createServer } from "node:http";
import { join } from "node:path";
import { hash, verify } from "@node-rs/argon2";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import Database from "better-sqlite3";
import { argon2Options } from "../../../packages/server/src/crypto/passwords.ts";

const dataDir = process.argv[2] ?? ".";
const database = new Database(join(dataDir, "better-auth.db"));
database.pragma("journal_mode = WAL");
database.pragma("synchronous = NORMAL");

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const address = server.address();
const port = address && typeof address === "object" ? address.port : 0;
const baseURL = `http://127.0.0.1:${port}`;

const options = {
  database,
  baseURL,
  secret: "bench-secret-bench-secret-bench-secret-0123456789",
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password: string) => hash(password, argon2Options),
      verify: ({ hash: stored, password }: { hash: string; password: string }) => verify(stored, password),
    },
  },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { disabled: true },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
server.on("request", toNodeHandler(auth));

const email = "bench@example.com";
const password = "bench-password-0123456789";
await auth.api.signUpEmail({ body: { email, password, name: "Bench" } });
const signIn = await fetch(`${baseURL}/api/auth/sign-in/email`, {
  method: "POST",
  headers: { "content-type": "application/json", origin: baseURL },
  body: JSON.stringify({ email, password }),
});
const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
if (signIn.status !== 200 || cookie === "") throw new Error(`Better Auth sign-in answered ${signIn.status}`);
const check = await fetch(`${baseURL}/api/auth/get-session`, { headers: { cookie } });
const session = (await check.json()) as { user?: { email?: string } } | null;
if (session?.user?.email !== email) throw new Error("Better Auth get-session did not find the session");
process.stdout.write(`ready ${JSON.stringify({ url: baseURL, email, password, cookie })}\n`);
