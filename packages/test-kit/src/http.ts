export interface RequestOptions {
  method?: string;
  token?: string;
  apiKey?: string;
  body?: unknown;
  /** Sent as-is, with Content-Type: application/json (for malformed bodies). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
  body: any;
  text: string;
}

export type Requester = (path: string, init?: RequestOptions) => Promise<TestResponse>;

/** fetch against `baseUrl`; JSON bodies are sent with Content-Type: application/json. */
export function createRequester(baseUrl: string): Requester {
  return async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.apiKey) headers["x-api-key"] = init.apiKey;
    let body: string | undefined;
    if (init.rawBody !== undefined) body = init.rawBody;
    else if (init.body !== undefined) body = JSON.stringify(init.body);
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const response = await fetch(baseUrl + path, {
      method: init.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: parseJsonBody(text), text };
  };
}

/** An answer's body as JSON, or undefined when it is empty or not JSON (tests inspect either). */
export function parseJsonBody(text: string): unknown {
  try {
    return text === "" ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
