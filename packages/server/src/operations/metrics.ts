import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type LoginOutcome =
  | "success"
  | "invalid_credentials"
  | "password_expired"
  | "account_locked"
  | "account_disabled"
  | "org_access_denied"
  | "no_active_org"
  | "selected_org_required"
  | "throttled";

/** One registry per app instance, so tests that build several apps do not share counters. */
export interface Metrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  requestDuration: Histogram<"method" | "route">;
  logins: Counter<"outcome">;
  liveSessions: Gauge;
}

export function createMetrics(countLiveSessions: () => Promise<number>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tessera_" });
  return {
    registry,
    requests: new Counter({
      name: "tessera_http_requests_total",
      help: "HTTP requests by method, route template and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "tessera_http_request_duration_seconds",
      help: "HTTP request latency by method and route template",
      labelNames: ["method", "route"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    logins: new Counter({
      name: "tessera_logins_total",
      help: "Password logins by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    liveSessions: new Gauge({
      name: "tessera_live_sessions",
      help: "Sessions that are neither expired nor revoked",
      registers: [registry],
      async collect() {
        this.set(await countLiveSessions());
      },
    }),
  };
}
