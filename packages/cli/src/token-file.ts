import { chmodSync, readFileSync, writeFileSync } from "node:fs";

/**
 * What `tessera login --save` (password, API key or single sign-on) writes and `tessera token`
 * reads: the wire answer of `POST /user/authenticate` or `POST /sso/token` plus the server it
 * came from, or an API key.
 */
export type SavedCredential =
  | {
      server: string;
      tokenType: "Bearer";
      token: string;
      /** Unix seconds, as the API answers it. */
      expiresAt: number;
      expiresIn: number;
      userId: number | undefined;
      orgId: number | undefined;
    }
  | {
      server: string;
      tokenType: "ApiKey";
      apiKey: string;
      expiresAt: null;
      userId: number | undefined;
      orgId: number | undefined;
    };

/** Writes the file readable by its owner only (0600), also when it already existed with wider rights. */
export function writeCredentialFile(path: string, credential: SavedCredential): void {
  writeFileSync(path, `${JSON.stringify(credential, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * What a login does with its new credential: with `file`, writes it there and says on standard
 * error until when it is valid; without, prints it as JSON on standard output.
 */
export function saveOrPrintCredential(credential: SavedCredential, file: string | undefined): void {
  if (!file) {
    process.stdout.write(`${JSON.stringify(credential, null, 2)}\n`);
    return;
  }
  writeCredentialFile(file, credential);
  const until =
    credential.expiresAt === null
      ? "does not expire"
      : `valid until ${new Date(credential.expiresAt * 1000).toISOString()}`;
  process.stderr.write(`Saved to ${file} (${until}).\n`);
}

export function readCredentialFile(path: string): SavedCredential {
  const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
  if (parsed === null || typeof parsed !== "object") throw new Error(`${path} is not a Tessera token file`);
  const file = parsed as Partial<Record<string, unknown>>;
  if (file.tokenType === "ApiKey" && typeof file.apiKey === "string") return parsed as SavedCredential;
  if (typeof file.token === "string" && typeof file.expiresAt === "number") {
    const id = (value: unknown) => (typeof value === "number" ? value : undefined);
    return {
      server: typeof file.server === "string" ? file.server : "",
      tokenType: "Bearer",
      token: file.token,
      expiresAt: file.expiresAt,
      expiresIn: typeof file.expiresIn === "number" ? file.expiresIn : 0,
      userId: id(file.userId),
      orgId: id(file.orgId),
    };
  }
  throw new Error(`${path} is not a Tessera token file`);
}
