/** What the load generator process is asked to do. */
export interface LoadSpec {
  /** http: autocannon over keep-alive connections. tls: a new TLS connection (full handshake) per request. */
  kind: "http" | "tls";
  url: string;
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
  /** Fixed total request rate (requests/s) instead of as fast as possible. */
  overallRate?: number;
  /**
   * A file of tokens, one a line: each request carries the next one (`Authorization: Bearer`),
   * so the server looks up many sessions, not one hot row.
   */
  tokenFile?: string;
  /** PEM client certificate, key and the CA that signed the server certificate (tls only). */
  tls?: { cert: string; key: string; ca: string };
}
