import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { parseJsonBody } from "./http.ts";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
  body: any;
}

/**
 * node:http rather than fetch: it sends what fetch refuses (a body on GET, header values with
 * bytes above 0x7f, any Content-Type), so bad input reaches the server exactly as written.
 */
export function rawRequest(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, baseUrl);
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = Buffer.byteLength(options.body);
    const request = httpRequest(
      { host: url.hostname, port: url.port, path, method: options.method ?? "GET", headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text, body: parseJsonBody(text) });
        });
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    if (options.body !== undefined) request.write(options.body);
    request.end();
  });
}

/** Writes raw bytes on a fresh connection and returns everything the server answers before closing. */
export function rawExchange(baseUrl: string, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl);
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.on("error", (error) =>
      chunks.length > 0 ? resolve(Buffer.concat(chunks).toString("latin1")) : reject(error),
    );
    socket.write(bytes);
  });
}
