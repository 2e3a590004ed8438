import type { ErrorCode } from "@tessera/protocol";
import { TesseraError } from "../errors/tessera-error.ts";

/**
 * A refused sign-on: the stable `code` the client sees, and a finer `reason` that only the audit
 * trail records (which check failed), so operators can tell a wrong audience from an expired token.
 */
export class SsoRefusal extends TesseraError {
  constructor(
    code: ErrorCode,
    readonly reason: string,
    detail?: string,
    /** The org concerned, when the refusal happens before the caller knows it. */
    readonly orgId?: number,
  ) {
    super(code, detail);
    this.name = "SsoRefusal";
  }
}
