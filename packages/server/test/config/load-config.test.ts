import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig, settings } from "../../src/config/config.ts";

describe("loadConfig", () => {
  let dir: string;
  let configFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tessera-config-"));
    configFile = join(dir, "tessera.json");
    writeFileSync(
      configFile,
      JSON.stringify({ httpAddr: "127.0.0.1:7001", logLevel: "debug", bodyLimit: 4096, roles: "pod" }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Asserts that `load` throws a ConfigError whose setting and message name `setting`. */
  function assertRejects(load: () => unknown, setting: string | RegExp): void {
    assert.throws(load, (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      if (typeof setting === "string") {
        assert.equal(error.setting, setting);
        assert.ok(error.message.startsWith(`${setting}: `), error.message);
      } else {
        assert.match(error.message, setting);
      }
      return true;
    });
  }

  it("has the defaults of contract §7", () => {
    const config = loadConfig({ argv: [], env: {} });
    assert.equal(config.dataDir, resolve("./data"));
    assert.deepEqual(config.httpAddr, { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(config.podMtlsAddr, { host: "127.0.0.1", port: 8443 });
    assert.deepEqual(config.kmMtlsAddr, { host: "127.0.0.1", port: 8444 });
    assert.equal(config.databaseUrl, undefined);
    assert.deepEqual(config.roles, ["pod", "keymanager", "agent"]);
    assert.equal(config.logLevel, "info");
    assert.equal(config.bodyLimit, 65536);
    assert.equal(config.bootstrapAdminEmail, undefined);
    assert.equal(config.bootstrapAdminPassword, undefined);
    assert.equal(config.maxLockoutMinutes, 1440);
  });

  it("takes a flag over an environment variable over the config file", () => {
    const fromFile = loadConfig({ argv: ["--config", configFile], env: {} });
    assert.deepEqual(fromFile.httpAddr, { host: "127.0.0.1", port: 7001 });
    assert.equal(fromFile.logLevel, "debug");
    assert.equal(fromFile.bodyLimit, 4096);
    assert.deepEqual(fromFile.roles, ["pod"]);

    const env = { TESSERA_CONFIG: configFile, TESSERA_HTTP_ADDR: "127.0.0.1:7002", TESSERA_LOG_LEVEL: "warn" };
    const fromEnv = loadConfig({ argv: [], env });
    assert.deepEqual(fromEnv.httpAddr, { host: "127.0.0.1", port: 7002 });
    assert.equal(fromEnv.logLevel, "warn");
    assert.equal(fromEnv.bodyLimit, 4096, "settings the environment leaves alone still come from the file");

    const fromFlag = loadConfig({ argv: ["--http-addr", "127.0.0.1:7003", "--log-level=error"], env });
    assert.deepEqual(fromFlag.httpAddr, { host: "127.0.0.1", port: 7003 });
    assert.equal(fromFlag.logLevel, "error");
    assert.equal(fromFlag.bodyLimit, 4096);
  });

  it("treats an empty environment variable as unset", () => {
    const config = loadConfig({ argv: [], env: { TESSERA_CONFIG: configFile, TESSERA_HTTP_ADDR: "" } });
    assert.deepEqual(config.httpAddr, { host: "127.0.0.1", port: 7001 });
  });

  it("treats null in the config file as unset", () => {
    const file = join(dir, "nulls.json");
    writeFileSync(file, JSON.stringify({ databaseUrl: null, logLevel: null }));
    const config = loadConfig({ argv: ["--config", file], env: {} });
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.logLevel, "info");
  });

  it("takes a list of roles in the config file, and refuses an object", () => {
    const file = join(dir, "lists.json");
    writeFileSync(file, JSON.stringify({ roles: ["pod", "agent"] }));
    assert.deepEqual(loadConfig({ argv: ["--config", file], env: {} }).roles, ["pod", "agent"]);
    writeFileSync(file, JSON.stringify({ dataDir: { path: "/tmp" } }));
    assertRejects(() => loadConfig({ argv: ["--config", file], env: {} }), "TESSERA_DATA_DIR");
  });

  it("accepts the forms operators write", () => {
    const config = loadConfig({
      argv: [],
      env: {
        TESSERA_HTTP_ADDR: "[::1]:0",
        TESSERA_POD_MTLS_ADDR: "localhost:9443",
        TESSERA_ROLES: " pod , agent,pod ",
        DATABASE_URL: "postgres://tessera:secret@db.example.com:5432/tessera",
        TESSERA_BOOTSTRAP_ADMIN_EMAIL: "Root@Example.com",
        TESSERA_BODY_LIMIT: "1024",
      },
    });
    assert.deepEqual(config.httpAddr, { host: "::1", port: 0 });
    assert.deepEqual(config.podMtlsAddr, { host: "localhost", port: 9443 });
    assert.deepEqual(config.roles, ["pod", "agent"]);
    assert.equal(config.databaseUrl, "postgres://tessera:secret@db.example.com:5432/tessera");
    assert.equal(config.bootstrapAdminEmail, "root@example.com");
    assert.equal(config.bodyLimit, 1024);
  });

  it("stops on each bad value with a ConfigError that names the setting", () => {
    const bad: [string, string][] = [
      ["TESSERA_HTTP_ADDR", "8080"],
      ["TESSERA_HTTP_ADDR", "127.0.0.1:"],
      ["TESSERA_HTTP_ADDR", "127.0.0.1:65536"],
      ["TESSERA_HTTP_ADDR", "http://127.0.0.1:8080"],
      ["TESSERA_POD_MTLS_ADDR", "localhost:https"],
      ["TESSERA_KM_MTLS_ADDR", "not an address"],
      ["TESSERA_ROLES", "pod,admin"],
      ["TESSERA_ROLES", " , "],
      ["TESSERA_LOG_LEVEL", "verbose"],
      ["TESSERA_LOG_LEVEL", "INFO"],
      ["TESSERA_BODY_LIMIT", "10"],
      ["TESSERA_BODY_LIMIT", "1mb"],
      ["TESSERA_BODY_LIMIT", "99999999"],
      ["TESSERA_BODY_LIMIT", "-5"],
      ["TESSERA_MAX_LOCKOUT_MINUTES", "0"],
      ["TESSERA_MAX_LOCKOUT_MINUTES", "10081"],
      ["TESSERA_MAX_LOCKOUT_MINUTES", "1h"],
      ["DATABASE_URL", "mysql://localhost/tessera"],
      ["DATABASE_URL", "sqlite:./data/tessera.db"],
      ["DATABASE_URL", "postgres://["],
      ["TESSERA_BOOTSTRAP_ADMIN_EMAIL", "admin"],
      // The bootstrap org starts with the default policy (at least 12 characters).
      ["TESSERA_BOOTSTRAP_ADMIN_PASSWORD", "x"],
      ["TESSERA_BOOTSTRAP_ADMIN_PASSWORD", "eleven char"],
    ];
    for (const [setting, value] of bad) {
      assertRejects(() => loadConfig({ argv: [], env: { [setting]: value } }), setting);
    }
  });

  it("has request, header and idle timeouts, validated", () => {
    const defaults = loadConfig({ argv: [], env: {} });
    assert.deepEqual(
      [defaults.requestTimeoutMs, defaults.headersTimeoutMs, defaults.idleTimeoutMs],
      [30_000, 10_000, 60_000],
    );
    const set = loadConfig({
      argv: [],
      env: { TESSERA_REQUEST_TIMEOUT_MS: "5000", TESSERA_HEADERS_TIMEOUT_MS: "2000", TESSERA_IDLE_TIMEOUT_MS: "90000" },
    });
    assert.deepEqual([set.requestTimeoutMs, set.headersTimeoutMs, set.idleTimeoutMs], [5_000, 2_000, 90_000]);
    for (const [setting, value] of [
      ["TESSERA_REQUEST_TIMEOUT_MS", "0"],
      ["TESSERA_REQUEST_TIMEOUT_MS", "30s"],
      ["TESSERA_REQUEST_TIMEOUT_MS", "9999999"],
      ["TESSERA_HEADERS_TIMEOUT_MS", "50"],
      // A silent connection is cut after the idle timeout: it must outlast a 30-s long-poll.
      ["TESSERA_IDLE_TIMEOUT_MS", "30000"],
    ] as const) {
      assertRejects(() => loadConfig({ argv: [], env: { [setting]: value } }), setting);
    }
    assertRejects(
      () => loadConfig({ argv: [], env: { TESSERA_REQUEST_TIMEOUT_MS: "1000", TESSERA_HEADERS_TIMEOUT_MS: "2000" } }),
      "TESSERA_HEADERS_TIMEOUT_MS",
    );
  });

  it("names the setting for a bad flag value too", () => {
    assertRejects(() => loadConfig({ argv: ["--log-level", "loud"], env: {} }), "TESSERA_LOG_LEVEL");
    assertRejects(() => loadConfig({ argv: ["--body-limit=abc"], env: {} }), "TESSERA_BODY_LIMIT");
  });

  it("refuses an unknown flag and a flag without its value", () => {
    assertRejects(() => loadConfig({ argv: ["--http-address", "127.0.0.1:1"], env: {} }), "--http-address");
    assertRejects(() => loadConfig({ argv: ["serve"], env: {} }), "serve");
    assertRejects(() => loadConfig({ argv: ["--http-addr"], env: {} }), "--http-addr");
  });

  it("refuses an unknown key in the config file, naming it", () => {
    const file = join(dir, "typo.json");
    writeFileSync(file, JSON.stringify({ httpAddr: "127.0.0.1:7001", logLevl: "debug" }));
    assertRejects(() => loadConfig({ argv: ["--config", file], env: {} }), /logLevl/);
    assertRejects(() => loadConfig({ argv: ["--config", file], env: {} }), /TESSERA_CONFIG/);
  });

  it("refuses a config file that is missing or not a JSON object", () => {
    assertRejects(() => loadConfig({ argv: [], env: { TESSERA_CONFIG: join(dir, "missing.json") } }), "TESSERA_CONFIG");
    for (const [name, text] of [
      ["broken.json", "{ not json"],
      ["array.json", "[]"],
      ["string.json", '"text"'],
    ] as const) {
      const file = join(dir, name);
      writeFileSync(file, text);
      assertRejects(() => loadConfig({ argv: ["--config", file], env: {} }), "TESSERA_CONFIG");
    }
  });

  it("checks values from the config file as strictly as the others", () => {
    const file = join(dir, "bad-values.json");
    writeFileSync(file, JSON.stringify({ bodyLimit: 12 }));
    assertRejects(() => loadConfig({ argv: ["--config", file], env: {} }), "TESSERA_BODY_LIMIT");
  });

  it("documents every setting with a flag, an environment variable and a file key", () => {
    for (const spec of Object.values(settings)) {
      assert.match(spec.flag, /^--[a-z-]+$/);
      assert.match(spec.env, /^[A-Z_]+$/);
      assert.ok(spec.description.length > 10);
    }
  });
});
