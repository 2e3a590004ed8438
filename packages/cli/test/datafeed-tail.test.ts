import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { addUser } from "@tessera/test-kit/admin.ts";
import { addBot } from "@tessera/test-kit/agent.ts";
import {
  adminEmail,
  adminPassword,
  startTestInstance,
  type TestInstance,
  untilChangeFeedLive,
} from "@tessera/test-kit/instance.ts";

const cliEntry = fileURLToPath(new URL("../src/main.ts", import.meta.url));

describe("tessera datafeed tail", () => {
  let tessera: TestInstance;
  let dir: string;
  before(async () => {
    tessera = await startTestInstance({ datafeedTiming: { longPollMs: 1_000, redeliveryMs: 30_000 } });
    dir = mkdtempSync(join(tmpdir(), "tessera-tail-"));
  });
  after(async () => {
    await tessera.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints one line per event as it happens and stops cleanly on Ctrl-C", async () => {
    const adminToken = await tessera.login(adminEmail, adminPassword);
    const bot = await addBot(tessera, adminToken, "auditor");
    const keyFile = join(dir, "bot.key");
    writeFileSync(keyFile, bot.privateKeyPem, { mode: 0o600 });

    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        cliEntry,
        "datafeed",
        "tail",
        "--pod",
        tessera.baseUrl,
        "--key-pair-user",
        bot.username,
        "--private-key",
        keyFile,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const output = (pattern: RegExp, stream: () => string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stream())) resolve();
        };
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          check();
        });
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          check();
        });
        void exited.then(() => reject(new Error(`tail exited early:\n${stderr}`)));
      });

    await output(/datafeed \S+_f/, () => stderr);
    // The server's long-polls wait on its test clock, which stands still: only the event's
    // notification answers the tail's read, so it must be heard (on PostgreSQL, LISTEN up).
    await untilChangeFeedLive(tessera.storage);
    const user = await addUser(tessera, adminToken, { role: "member" });
    await output(/USER_CREATED/, () => stdout);
    child.kill("SIGINT");
    assert.equal(await exited, 0, stderr);

    const line = stdout.split("\n").find((entry) => entry.includes("USER_CREATED")) ?? "";
    assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z USER_CREATED by admin@example\.com \{/);
    assert.equal(JSON.parse(line.slice(line.indexOf("{"))).subjectUserId, user.id);
    assert.ok(!/tss_|tsm_|tsu_/.test(stdout + stderr), "no token printed");
  });
});
