import type { PutSsoConfigRequest, SsoConfig } from "@tessera/protocol";
import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { toUnixSeconds } from "../clock.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { SsoConfigRow } from "../storage/schema.ts";
import { openClientSecret, sealClientSecret } from "./secret-box.ts";
import { configuredRedirectUri, parseSecureUrl } from "./urls.ts";

export const defaultScopes = ["openid", "email", "profile"];

/** An org's provider settings as the sign-on flow uses them, secret included (never shown). */
export interface SsoSettings {
  orgId: number;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  jitProvisioning: boolean;
  defaultRole: "member" | "auditor" | "admin";
  allowedEmailDomains: string[];
  allowedReturnUrls: string[];
  requireEmailVerified: boolean;
  enabled: boolean;
}

function toView(ctx: AppContext, row: SsoConfigRow): SsoConfig {
  return {
    orgId: row.org_id,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecretSet: row.client_secret_sealed !== "",
    scopes: row.scopes.split(" "),
    jitProvisioning: row.jit_provisioning === 1,
    defaultRole: row.default_role,
    allowedEmailDomains: JSON.parse(row.allowed_email_domains) as string[],
    allowedReturnUrls: JSON.parse(row.allowed_return_urls) as string[],
    requireEmailVerified: row.require_email_verified === 1,
    enabled: row.enabled === 1,
    redirectUri: configuredRedirectUri(ctx),
    updatedAt: toUnixSeconds(row.updated_at),
  };
}

/** `GET /admin/orgs/{orgId}/sso`: the settings without the secret; 404 sso_not_configured if none. */
export async function getSsoConfig(ctx: AppContext, orgId: number): Promise<SsoConfig> {
  const row = await ctx.db.selectFrom("sso_configs").selectAll().where("org_id", "=", orgId).executeTakeFirst();
  if (!row) throw new TesseraError("sso_not_configured");
  return toView(ctx, row);
}

/** The settings a sign-on uses: 404 sso_not_configured when absent or disabled. */
export async function loadSsoSettings(ctx: AppContext, orgId: number): Promise<SsoSettings> {
  const row = await ctx.db.selectFrom("sso_configs").selectAll().where("org_id", "=", orgId).executeTakeFirst();
  if (row?.enabled !== 1) throw new TesseraError("sso_not_configured");
  const view = toView(ctx, row);
  return { ...view, clientSecret: await openClientSecret(ctx, orgId, row.client_secret_sealed) };
}

function invalid(detail: string): TesseraError {
  return new TesseraError("sso_invalid_config", detail);
}

/** Checks what a schema cannot: URL shapes, scopes, domains. Returns the normalised values. */
function normalise(input: PutSsoConfigRequest) {
  const issuer = parseSecureUrl(input.issuer);
  if (issuer?.search !== "") {
    throw invalid("issuer must be an https URL without query or fragment (http only on loopback)");
  }
  const scopes = [...new Set(input.scopes ?? defaultScopes)];
  if (!scopes.includes("openid")) throw invalid('scopes must include "openid"');
  const domains = [...new Set((input.allowedEmailDomains ?? []).map((domain) => domain.toLowerCase()))];
  if (domains.some((domain) => domain.startsWith(".") || domain.endsWith(".") || domain.includes(".."))) {
    throw invalid("allowedEmailDomains must be plain domain names such as example.com");
  }
  const returnUrls = [...new Set(input.allowedReturnUrls ?? [])];
  for (const url of returnUrls) {
    if (!parseSecureUrl(url)) {
      throw invalid(`allowedReturnUrls: "${url}" is not an https URL without fragment (http only on loopback)`);
    }
  }
  return {
    issuer: issuer.href.replace(/\/+$/, ""),
    client_id: input.clientId,
    scopes: scopes.join(" "),
    jit_provisioning: input.jitProvisioning === true ? 1 : 0,
    default_role: input.defaultRole ?? "member",
    allowed_email_domains: JSON.stringify(domains),
    allowed_return_urls: JSON.stringify(returnUrls),
    require_email_verified: input.requireEmailVerified === false ? 0 : 1,
    enabled: input.enabled === false ? 0 : 1,
  } as const;
}

/**
 * `PUT /admin/orgs/{orgId}/sso`: replaces the settings (omitted fields take their defaults),
 * except the client secret, which is kept when omitted. Audited in the same transaction,
 * without the secret.
 */
export async function putSsoConfig(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  input: PutSsoConfigRequest,
  ip: string,
): Promise<SsoConfig> {
  const values = normalise(input);
  const sealed = input.clientSecret === undefined ? undefined : await sealClientSecret(ctx, orgId, input.clientSecret);
  const now = ctx.clock.now();
  await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("sso_configs")
      .select("org_id")
      .where("org_id", "=", orgId)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable("sso_configs")
        .set({ ...values, updated_at: now, ...(sealed === undefined ? {} : { client_secret_sealed: sealed }) })
        .where("org_id", "=", orgId)
        .execute();
    } else {
      if (sealed === undefined) throw invalid("clientSecret is required the first time");
      await trx
        .insertInto("sso_configs")
        .values({ org_id: orgId, ...values, client_secret_sealed: sealed, updated_at: now })
        .execute();
    }
    await recordAudit(trx, now, {
      type: "sso_config.updated",
      orgId,
      actorUserId: principal.userId,
      data: {
        issuer: values.issuer,
        clientId: values.client_id,
        clientSecretChanged: sealed !== undefined,
        jitProvisioning: values.jit_provisioning === 1,
        defaultRole: values.default_role,
        enabled: values.enabled === 1,
      },
      ip,
    });
  });
  return getSsoConfig(ctx, orgId);
}
