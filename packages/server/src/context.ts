import type { Kysely } from "kysely";
import type { AddressThrottle } from "./access/address-throttle.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config/config.ts";
import type { Metrics } from "./operations/metrics.ts";
import type { StorageDialect } from "./storage/dialects/dialect.ts";
import type { Database } from "./storage/schema.ts";

/** What every domain function may need, handed in rather than imported, so tests can swap any of it. */
export interface AppContext {
  config: Config;
  storage: StorageDialect;
  db: Kysely<Database>;
  clock: Clock;
  metrics: Metrics;
  /** Server secret from which renewed tokens are derived (see deriveSuccessorToken). */
  renewalKey: Buffer;
  /** Server secret keying the hashes under which failed logins of unknown emails are counted. */
  emailKey: Buffer;
  loginThrottle: AddressThrottle;
  /** Per-address limit of single sign-on starts, each of which stores an attempt. */
  ssoStartThrottle: AddressThrottle;
  /**
   * Whether every listener of the roles served accepts connections. `serve()` clears it until its
   * last listen() resolved; an app built without serve() (tests, embedders) listens on its own.
   */
  readiness: { listenersUp: boolean };
}
