import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defaultPasswordPolicy } from "../policies/policies.ts";
import { assertPasswordRules, passwordLength } from "../user-sessions/password-rules.ts";

export type ServerRole = "pod" | "keymanager" | "agent";
/** Who may read `/metrics`: anyone, a token that may read the audit log, or nobody (no route). */
export type MetricsAccess = "public" | "auditor" | "off";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface ListenAddress {
  host: string;
  port: number;
}

/** Every operator setting, resolved and validated (contract §7). */
export interface Config {
  dataDir: string;
  httpAddr: ListenAddress;
  podMtlsAddr: ListenAddress;
  kmMtlsAddr: ListenAddress;
  databaseUrl: string | undefined;
  /** Most pooled PostgreSQL connections of this process. */
  dbPoolSize: number;
  roles: ServerRole[];
  bootstrapAdminEmail: string | undefined;
  bootstrapAdminPassword: string | undefined;
  logLevel: LogLevel;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Longest a client may take to send a whole request (head and body), on every listener. */
  requestTimeoutMs: number;
  /** Longest a client may take to send a request's head. */
  headersTimeoutMs: number;
  /** Longest a connection may stay silent (no byte either way); longer than a datafeed long-poll. */
  idleTimeoutMs: number;
  /** Trust X-Forwarded-For from these proxies (Fastify's trustProxy); unset trusts none. */
  trustProxy: string | undefined;
  metrics: MetricsAccess;
  /** Tessera's public base URL (no trailing slash), from which the SSO redirect URI is built. */
  publicUrl: string | undefined;
  /** Reject any Content-Type on the bodiless service-session authenticate calls (the letter of Symphony's reference). */
  sessionauthStrictContentType: boolean;
  /** `iss` of authorization tokens. */
  issuer: string;
  /** Longest lockout after failed logins, whatever an org's policy asks for. */
  maxLockoutMinutes: number;
  /** Audiences a key-pair login token's `aud` may name, beside `publicUrl`; none configured: the request's own origin. */
  keyPairAudiences: string[];
  /** Most CA certificates one organisation may trust. */
  trustedCaLimit: number;
}

/** A setting with a bad value: start-up stops with a message that names it. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = "ConfigError";
  }
}

interface SettingSpec {
  env: string;
  flag: string;
  file: string;
  description: string;
  default?: string;
}

/** The settings table; the README's configuration section mirrors it. */
export const settings = {
  dataDir: {
    env: "TESSERA_DATA_DIR",
    flag: "--data-dir",
    file: "dataDir",
    default: "./data",
    description: "Directory for the SQLite database and generated certificates",
  },
  httpAddr: {
    env: "TESSERA_HTTP_ADDR",
    flag: "--http-addr",
    file: "httpAddr",
    default: "127.0.0.1:8080",
    description: "HTTP listener (user sessions, admin, docs, datafeeds)",
  },
  podMtlsAddr: {
    env: "TESSERA_POD_MTLS_ADDR",
    flag: "--pod-mtls-addr",
    file: "podMtlsAddr",
    default: "127.0.0.1:8443",
    description: "Pod mutual-TLS listener (/sessionauth)",
  },
  kmMtlsAddr: {
    env: "TESSERA_KM_MTLS_ADDR",
    flag: "--km-mtls-addr",
    file: "kmMtlsAddr",
    default: "127.0.0.1:8444",
    description: "Key-manager mutual-TLS listener (/keyauth)",
  },
  databaseUrl: {
    env: "DATABASE_URL",
    flag: "--database-url",
    file: "databaseUrl",
    description: "postgres://… for PostgreSQL; unset: SQLite in the data directory",
  },
  dbPoolSize: {
    env: "TESSERA_DB_POOL_SIZE",
    flag: "--db-pool-size",
    file: "dbPoolSize",
    default: "10",
    description: "Most PostgreSQL connections each node keeps open (1…1000); size nodes × this below max_connections",
  },
  roles: {
    env: "TESSERA_ROLES",
    flag: "--roles",
    file: "roles",
    default: "pod,keymanager,agent",
    description: "Comma-separated roles this process serves",
  },
  bootstrapAdminEmail: {
    env: "TESSERA_BOOTSTRAP_ADMIN_EMAIL",
    flag: "--bootstrap-admin-email",
    file: "bootstrapAdminEmail",
    description: "Email of the admin created on first start (default admin@tessera.local)",
  },
  bootstrapAdminPassword: {
    env: "TESSERA_BOOTSTRAP_ADMIN_PASSWORD",
    flag: "--bootstrap-admin-password",
    file: "bootstrapAdminPassword",
    description: "Password of that admin; unset: a one-time password is generated and printed",
  },
  logLevel: {
    env: "TESSERA_LOG_LEVEL",
    flag: "--log-level",
    file: "logLevel",
    default: "info",
    description: "fatal, error, warn, info, debug, trace or silent",
  },
  tlsCert: {
    env: "TESSERA_TLS_CERT",
    flag: "--tls-cert",
    file: "tlsCert",
    description: "PEM server certificate (chain) for the mTLS listeners",
  },
  tlsKey: {
    env: "TESSERA_TLS_KEY",
    flag: "--tls-key",
    file: "tlsKey",
    description: "PEM private key of that certificate",
  },
  bodyLimit: {
    env: "TESSERA_BODY_LIMIT",
    flag: "--body-limit",
    file: "bodyLimit",
    default: "65536",
    description: "Largest request body in bytes (1024…10485760)",
  },
  requestTimeoutMs: {
    env: "TESSERA_REQUEST_TIMEOUT_MS",
    flag: "--request-timeout-ms",
    file: "requestTimeoutMs",
    default: "30000",
    description:
      "Longest time a client may take to send a whole request, head and body, in ms (100…600000); then 408 and close",
  },
  headersTimeoutMs: {
    env: "TESSERA_HEADERS_TIMEOUT_MS",
    flag: "--headers-timeout-ms",
    file: "headersTimeoutMs",
    default: "10000",
    description:
      "Longest time a client may take to send a request's headers, in ms (100…600000, at most the request timeout)",
  },
  idleTimeoutMs: {
    env: "TESSERA_IDLE_TIMEOUT_MS",
    flag: "--idle-timeout-ms",
    file: "idleTimeoutMs",
    default: "60000",
    description: "A connection silent this long is closed, in ms (35000…3600000: above the 30-s datafeed long-poll)",
  },
  trustProxy: {
    env: "TESSERA_TRUST_PROXY",
    flag: "--trust-proxy",
    file: "trustProxy",
    description: "Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed",
  },
  metrics: {
    env: "TESSERA_METRICS",
    flag: "--metrics",
    file: "metrics",
    default: "public",
    description:
      "Who may read /metrics: public (anyone who reaches the listener), auditor (a token granting audit:read) or off",
  },
  publicUrl: {
    env: "TESSERA_PUBLIC_URL",
    flag: "--public-url",
    file: "publicUrl",
    description:
      "Public base URL of this server, e.g. https://auth.example.com (SSO redirect URI: <URL>/sso/callback; unset: sign-on only on loopback hosts)",
  },
  sessionauthStrictContentType: {
    env: "TESSERA_SESSIONAUTH_STRICT_CONTENT_TYPE",
    flag: "--sessionauth-strict-content-type",
    file: "sessionauthStrictContentType",
    default: "false",
    description:
      "true: /sessionauth and /keyauth authenticate calls refuse any Content-Type, even with an empty body (Symphony's clients send application/json)",
  },
  issuer: {
    env: "TESSERA_ISSUER",
    flag: "--issuer",
    file: "issuer",
    default: "tessera",
    description: "The iss claim of authorization tokens (for example the public URL of this server)",
  },
  maxLockoutMinutes: {
    env: "TESSERA_MAX_LOCKOUT_MINUTES",
    flag: "--max-lockout-minutes",
    file: "maxLockoutMinutes",
    default: "1440",
    description: "Longest lockout after failed logins in minutes (1…10080), whatever an org's password policy says",
  },
  keyPairAudiences: {
    env: "TESSERA_KEY_PAIR_AUDIENCES",
    flag: "--key-pair-audiences",
    file: "keyPairAudiences",
    description:
      "Comma-separated URLs a key-pair login token's aud may name (beside TESSERA_PUBLIC_URL); unset with no public URL: the URL the request was sent to",
  },
  trustedCaLimit: {
    env: "TESSERA_TRUSTED_CA_LIMIT",
    flag: "--trusted-ca-limit",
    file: "trustedCaLimit",
    default: "50",
    description: "Most CA certificates one organisation may trust (1…10000)",
  },
} as const satisfies Record<keyof Config, SettingSpec>;

const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const metricsAccesses: readonly MetricsAccess[] = ["public", "auditor", "off"];
const serverRoles: readonly ServerRole[] = ["pod", "keymanager", "agent"];

export interface ConfigSources {
  argv?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** Flags win over environment variables, which win over the config file (`--config` or `TESSERA_CONFIG`). */
export function loadConfig({ argv = [], env = process.env }: ConfigSources = {}): Config {
  const flags = parseFlags(argv);
  const configPath = flags.get("--config") ?? env.TESSERA_CONFIG;
  const file = configPath ? readConfigFile(configPath) : {};

  const raw = (key: keyof Config): string | undefined => {
    const spec: SettingSpec = settings[key];
    return flags.get(spec.flag) ?? nonEmpty(env[spec.env]) ?? fileValue(spec, file[spec.file]) ?? spec.default;
  };
  const name = (key: keyof Config) => settings[key].env;

  const requestTimeoutMs = parseInteger(name("requestTimeoutMs"), raw("requestTimeoutMs") ?? "30000", 100, 600_000);
  const headersTimeoutMs = parseInteger(name("headersTimeoutMs"), raw("headersTimeoutMs") ?? "10000", 100, 600_000);
  // Node refuses a head deadline later than the whole request's.
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      name("headersTimeoutMs"),
      `must not exceed ${name("requestTimeoutMs")} (${requestTimeoutMs})`,
    );
  }
  return {
    dataDir: resolve(raw("dataDir") ?? "./data"),
    httpAddr: parseAddress(name("httpAddr"), raw("httpAddr")),
    podMtlsAddr: parseAddress(name("podMtlsAddr"), raw("podMtlsAddr")),
    kmMtlsAddr: parseAddress(name("kmMtlsAddr"), raw("kmMtlsAddr")),
    databaseUrl: parseDatabaseUrl(name("databaseUrl"), raw("databaseUrl")),
    dbPoolSize: parseInteger(name("dbPoolSize"), raw("dbPoolSize") ?? "10", 1, 1000),
    roles: parseRoles(name("roles"), raw("roles") ?? ""),
    bootstrapAdminEmail: parseEmail(name("bootstrapAdminEmail"), raw("bootstrapAdminEmail")),
    bootstrapAdminPassword: parseBootstrapPassword(name("bootstrapAdminPassword"), raw("bootstrapAdminPassword")),
    logLevel: parseEnum(name("logLevel"), raw("logLevel") ?? "info", logLevels),
    tlsCert: raw("tlsCert"),
    tlsKey: raw("tlsKey"),
    bodyLimit: parseInteger(name("bodyLimit"), raw("bodyLimit") ?? "65536", 1024, 10485760),
    requestTimeoutMs,
    headersTimeoutMs,
    idleTimeoutMs: parseInteger(name("idleTimeoutMs"), raw("idleTimeoutMs") ?? "60000", 35_000, 3_600_000),
    trustProxy: raw("trustProxy"),
    metrics: parseEnum(name("metrics"), raw("metrics") ?? "public", metricsAccesses),
    publicUrl: parsePublicUrl(name("publicUrl"), raw("publicUrl")),
    sessionauthStrictContentType: parseBoolean(
      name("sessionauthStrictContentType"),
      raw("sessionauthStrictContentType") ?? "false",
    ),
    issuer: raw("issuer") ?? "tessera",
    maxLockoutMinutes: parseInteger(name("maxLockoutMinutes"), raw("maxLockoutMinutes") ?? "1440", 1, 10080),
    keyPairAudiences: parseUrlList(name("keyPairAudiences"), raw("keyPairAudiences")),
    trustedCaLimit: parseInteger(name("trustedCaLimit"), raw("trustedCaLimit") ?? "50", 1, 10000),
  };
}

/** A config file value as text: null means unset, a list (such as roles) is comma-joined. */
function fileValue(spec: SettingSpec, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.join(",");
  throw new ConfigError(spec.env, `the config file's "${spec.file}" must be a string or a number`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const known = new Set<string>(["--config", ...Object.values(settings).map((spec) => spec.flag)]);
  const flags = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? "";
    const [flag, inline] = argument.includes("=") ? argument.split(/=(.*)/s, 2) : [argument, undefined];
    if (!flag || !known.has(flag)) throw new ConfigError(argument, "unknown option");
    const value = inline ?? argv[++index];
    if (value === undefined) throw new ConfigError(flag, "needs a value");
    flags.set(flag, value);
  }
  return flags;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError("TESSERA_CONFIG", `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not a JSON object");
    const allowed = new Set<string>(Object.values(settings).map((spec) => spec.file));
    for (const key of Object.keys(parsed)) {
      if (!allowed.has(key)) throw new ConfigError(`TESSERA_CONFIG (${path})`, `unknown setting "${key}"`);
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError("TESSERA_CONFIG", `${path} is not a JSON object: ${(error as Error).message}`);
  }
}

export function parseAddress(setting: string, value: string | undefined): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(value ?? "");
  const port = Number(match?.[3]);
  if (!match || port > 65535) {
    throw new ConfigError(setting, `"${value}" is not host:port (for example 127.0.0.1:8080)`);
  }
  return { host: match[1] ?? match[2] ?? "", port };
}

function parseDatabaseUrl(setting: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(value)) {
    throw new ConfigError(setting, "must start with postgres:// (leave it unset for SQLite)");
  }
  try {
    new URL(value);
  } catch {
    throw new ConfigError(setting, "is not a valid URL");
  }
  return value;
}

function parsePublicUrl(setting: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting, `"${value}" is not an absolute URL`);
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.search !== "" || url.hash !== "") {
    throw new ConfigError(setting, `"${value}" must be an http(s) URL without query or fragment`);
  }
  return url.href.replace(/\/+$/, "");
}

function parseUrlList(setting: string, value: string | undefined): string[] {
  const parts = (value ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  return [...new Set(parts.map((part) => parsePublicUrl(setting, part) ?? part))];
}

function parseRoles(setting: string, value: string): ServerRole[] {
  const parts = value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new ConfigError(setting, "names no role (use pod, keymanager, agent)");
  for (const part of parts) {
    if (!(serverRoles as readonly string[]).includes(part)) {
      throw new ConfigError(setting, `unknown role "${part}" (use pod, keymanager, agent)`);
    }
  }
  return [...new Set(parts)] as ServerRole[];
}

function parseEmail(setting: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[^\s@]+@[^\s@]+$/.test(value)) throw new ConfigError(setting, `"${value}" is not an email address`);
  return value.toLowerCase();
}

/** The bootstrap org starts with the default password policy; its admin's password must pass it. */
function parseBootstrapPassword(setting: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (passwordLength(value) < defaultPasswordPolicy.minLength) {
    throw new ConfigError(setting, `must be at least ${defaultPasswordPolicy.minLength} characters long`);
  }
  try {
    assertPasswordRules(value, 0);
  } catch (error) {
    throw new ConfigError(setting, (error as Error).message);
  }
  return value;
}

function parseEnum<T extends string>(setting: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(setting, `"${value}" is not one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function parseBoolean(setting: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new ConfigError(setting, `"${value}" is not true or false`);
}

function parseInteger(setting: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < min || number > max) {
    throw new ConfigError(setting, `"${value}" is not an integer between ${min} and ${max}`);
  }
  return number;
}
