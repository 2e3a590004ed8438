/**
 * Readable prefixes per token kind, so secret scanners (and people) can tell them apart.
 * The rest of a token is 256 bits from a CSPRNG, base64url-encoded.
 */
export const tokenPrefixes = {
  userSession: "tsu_",
  apiKey: "tsk_",
  serviceSession: "tss_",
  keyManagerSession: "tsm_",
} as const;

export type TokenKind = keyof typeof tokenPrefixes;
