/**
 * Readable prefixes per token kind, so secret scanners (and people) can tell them apart.
 * The rest of a token is 256 bits from a CSPRNG, base64url-encoded.
 */
export const tokenPrefixes = {
  userSession: "tsu_",
  apiKey: "tsk_",
  serviceSession: "tss_",
  keyManagerSession: "tsm_",
  /** Single-use code that hands a single sign-on over to its client (exchanged at POST /sso/token). */
  ssoHandover: "tsh_",
} as const;

export type TokenKind = keyof typeof tokenPrefixes;
