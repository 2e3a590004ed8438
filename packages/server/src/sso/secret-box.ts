import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { AppContext } from "../context.ts";
import { loadServerSecret } from "../storage/server-secrets.ts";

const keyName = "sso-client-secret-key";
const keys = new WeakMap<AppContext, Promise<Buffer>>();

/** The key that seals client secrets: a server secret shared by every node through the database. */
function sealingKey(ctx: AppContext): Promise<Buffer> {
  let key = keys.get(ctx);
  if (!key) {
    key = loadServerSecret(ctx.db, keyName, ctx.clock.now());
    keys.set(ctx, key);
  }
  return key;
}

/**
 * Seals a client secret with AES-256-GCM, bound to its org (as additional data), so a copied
 * database row neither reveals the secret nor works for another org.
 */
export async function sealClientSecret(ctx: AppContext, orgId: number, secret: string): Promise<string> {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", await sealingKey(ctx), iv);
  cipher.setAAD(Buffer.from(`sso-client-secret:${orgId}`));
  const sealed = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return ["v1", iv, sealed, cipher.getAuthTag()]
    .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
    .join(".");
}

export async function openClientSecret(ctx: AppContext, orgId: number, sealed: string): Promise<string> {
  const [version, iv, data, tag] = sealed.split(".");
  if (version !== "v1" || iv === undefined || data === undefined || tag === undefined) {
    throw new Error("unknown sealed secret format");
  }
  const decipher = createDecipheriv("aes-256-gcm", await sealingKey(ctx), Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(`sso-client-secret:${orgId}`));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
}
