import { type ErrorCode, errorCodes } from "@tessera/protocol";

/** Every expected failure: a stable code from the registry, its status, and a safe detail. */
export class TesseraError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  /** Extra response headers, such as Retry-After. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? errorCodes[code].title);
    this.name = "TesseraError";
    this.code = code;
    this.status = errorCodes[code].status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}
