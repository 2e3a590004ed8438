import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { hashToken } from "../../packages/server/src/crypto/tokens.ts";
import { repoRoot, spawnTs } from "./processes.ts";

export const adminEmail = "bench-admin@example.com";
export const adminPassword = "bench-admin-password-0123";

export interface TesseraProcess {
  child: ChildProcess;
  pid: number;
  httpUrl: string;
  podMtlsUrl: string;
}

/** `tessera serve` on `dataDir` as its own process, every role, ephemeral ports, logs at warn. */
export function startTessera(dataDir: string, nodeArgs: string[] = []): Promise<TesseraProcess> {
  const child = spawnTs(
    join(repoRoot, "packages/cli/src/main.ts"),
    ["serve"],
    {
      TESSERA_DATA_DIR: dataDir,
      TESSERA_HTTP_ADDR: "127.0.0.1:0",
      TESSERA_POD_MTLS_ADDR: "127.0.0.1:0",
      TESSERA_KM_MTLS_ADDR: "127.0.0.1:0",
      TESSERA_LOG_LEVEL: "warn",
      TESSERA_BOOTSTRAP_ADMIN_EMAIL: adminEmail,
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    },
    nodeArgs,
  );
  return new Promise((resolve, reject) => {
    let httpUrl: string | undefined;
    let podMtlsUrl: string | undefined;
    const onExit = (code: number | null) => reject(new Error(`tessera serve exited (${code}) during start-up`));
    child.once("exit", onExit);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      httpUrl ??= /^Tessera is listening on (\S+)/.exec(line)?.[1];
      podMtlsUrl ??= /^Pod mutual-TLS listener[^:]*: (https:\/\/[^/]+)/.exec(line)?.[1];
      // The banner ends with the HTTP listening line, after the listeners and the store.
      if (httpUrl && podMtlsUrl && child.pid) {
        child.off("exit", onExit);
        resolve({ child, pid: child.pid, httpUrl, podMtlsUrl });
      }
    });
  });
}

export interface SeededTokens {
  /** Tokens spread over every seeded session, for validation loads. */
  validation: string[];
  /** Tokens used by no other load, each good for one renewal. */
  renewal: string[];
}

/**
 * Inserts `count` live user sessions of the bootstrap admin straight into the SQLite file (one
 * transaction, prepared statements), as logins would have made them, and keeps some tokens.
 */
export function seedSessions(databaseFile: string, count: number, keep: { validation: number; renewal: number }) {
  const db = new Database(databaseFile);
  db.pragma("journal_mode = WAL");
  const owner = db
    .prepare(
      "select u.id as user_id, m.id as membership_id, m.org_id as org_id from users u join memberships m on m.user_id = u.id where u.email = ?",
    )
    .get(adminEmail) as { user_id: number; membership_id: number; org_id: number };
  const insertSession = db.prepare(
    "insert into sessions (kind, user_id, org_id, membership_id, created_at, expires_at, absolute_expires_at, revoked_at) values ('user', ?, ?, ?, ?, ?, ?, null)",
  );
  const insertToken = db.prepare(
    "insert into session_tokens (token_hash, session_id, created_at, grace_ends_at) values (?, ?, ?, null)",
  );
  const now = Date.now();
  const tokens: SeededTokens = { validation: [], renewal: [] };
  const validationEvery = Math.max(1, Math.floor(count / keep.validation));
  const batch = 8192;
  db.transaction(() => {
    let random = Buffer.alloc(0);
    for (let index = 0; index < count; index++) {
      if (index % batch === 0) random = randomBytes(32 * batch);
      const offset = (index % batch) * 32;
      const token = `tsu_${random.subarray(offset, offset + 32).toString("base64url")}`;
      const session = insertSession.run(
        owner.user_id,
        owner.org_id,
        owner.membership_id,
        now,
        now + 2 * 3_600_000,
        now + 20 * 3_600_000,
      );
      insertToken.run(hashToken(token), session.lastInsertRowid, now);
      if (index % validationEvery === 0 && tokens.validation.length < keep.validation) tokens.validation.push(token);
      else if (tokens.renewal.length < keep.renewal) tokens.renewal.push(token);
    }
  })();
  db.close();
  return tokens;
}

export function writeTokenFile(file: string, tokens: string[]): string {
  writeFileSync(file, `${tokens.join("\n")}\n`, { mode: 0o600 });
  return file;
}

/** JSON over HTTP against Tessera; throws on an unexpected status. */
export async function call(
  url: string,
  options: { method?: string; token?: string; body?: unknown; expect?: number },
): Promise<unknown> {
  const response = await fetch(url, {
    method: options.method ?? "GET",
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  if (response.status !== (options.expect ?? 200)) throw new Error(`${url} answered ${response.status}: ${text}`);
  return text === "" ? undefined : JSON.parse(text);
}
