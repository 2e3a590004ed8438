import { request } from "node:https";
import { parseJsonBody } from "./http.ts";

export interface MtlsRequestOptions {
  method?: string;
  /** PEM client certificate (chain) and key; omit both to present none. */
  cert?: string;
  key?: string;
  /** The CA that signed the server certificate. */
  ca: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface MtlsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
  body: any;
  text: string;
}

/**
 * One request over a fresh TLS connection (no agent, so no reused session or socket):
 * each call presents exactly the certificate it is given.
 */
export function mtlsRequest(url: string, options: MtlsRequestOptions): Promise<MtlsResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: options.method ?? "POST",
        ca: options.ca,
        ...(options.cert ? { cert: options.cert } : {}),
        ...(options.key ? { key: options.key } : {}),
        headers: options.headers ?? {},
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parseJsonBody(text), text });
        });
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    if (options.body !== undefined) outgoing.write(options.body);
    outgoing.end();
  });
}
