import { TLSSocket } from "node:tls";
import type { Role } from "@tessera/protocol";
import { buildTrustedChain, readPresentedCertificate, type VerifiedChain } from "../certificates/client-chain.ts";
import { validateClientPath } from "../certificates/path-validation.ts";
import { loadTrustAnchors } from "../certificates/trusted-cas.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import type { ServiceAccount } from "../sessions/open-session.ts";
import { assertNoApplicationConflict } from "./applications.ts";
import { auditServiceLoginRefusal } from "./login-refusals.ts";

/**
 * contract §3: who a client certificate names, after every rule in its order. The TLS layer
 * accepted any certificate so that each refusal gets its own JSON reason here:
 * 401 no certificate, untrusted chain, an issuer that may not issue, expired or not yet valid;
 * 403 weak key, a leaf unfit for client authentication, unknown CN, or an application of the
 * same name.
 */
export async function authenticateClientCertificate(
  ctx: AppContext,
  socket: unknown,
  ip: string,
): Promise<ServiceAccount> {
  const presented = socket instanceof TLSSocket ? readPresentedCertificate(socket) : undefined;
  if (!presented) {
    throw new TesseraError(
      "client_certificate_required",
      socket instanceof TLSSocket
        ? "No client certificate was presented in the TLS handshake"
        : "This listener has no TLS: authenticate on the mutual-TLS listener",
    );
  }
  let trustingOrgIds: readonly number[] = [];
  const attempt = () => ({
    method: "certificate" as const,
    username: presented.commonName,
    orgIds: trustingOrgIds,
    ip,
  });
  return auditServiceLoginRefusal(ctx, attempt, async () => {
    let chain: VerifiedChain;
    try {
      chain = buildTrustedChain(presented, await loadTrustAnchors(ctx, presented, "key"));
    } catch (error) {
      if (!(error instanceof TesseraError && error.code === "certificate_untrusted")) throw error;
      chain = buildTrustedChain(presented, await loadTrustAnchors(ctx, presented, "name"));
    }
    trustingOrgIds = chain.trustingOrgIds;
    validateClientPath(chain, ctx.clock.now());
    const account = await findServiceAccount(ctx, presented.commonName, chain.trustingOrgIds);
    await assertNoApplicationConflict(ctx, account.orgId, account.username);
    return account;
  });
}

/**
 * The active service user named `username` whose home org is one of `orgIds` (the orgs that
 * trust the certificate's CA), with its active membership there: an org's CAs vouch only for
 * the service users it owns. 403 otherwise, with no hint whether the name exists elsewhere.
 */
export async function findServiceAccount(
  ctx: AppContext,
  username: string | undefined,
  orgIds: readonly number[],
): Promise<ServiceAccount> {
  const notFound = new TesseraError("service_user_not_found");
  if (username === undefined || orgIds.length === 0) throw notFound;
  const row = await ctx.db
    .selectFrom("users as u")
    .innerJoin("memberships as m", (join) =>
      join.onRef("m.user_id", "=", "u.id").onRef("m.org_id", "=", "u.home_org_id"),
    )
    .select(["u.id as user_id", "u.username", "m.id as membership_id", "m.org_id", "m.role"])
    .where("u.username", "=", username)
    .where("u.kind", "=", "service")
    .where("u.active", "=", 1)
    .where("m.active", "=", 1)
    .where("m.org_id", "in", [...orgIds])
    .limit(1)
    .executeTakeFirst();
  if (!row || row.username === null) throw notFound;
  return {
    userId: row.user_id,
    username: row.username,
    orgId: row.org_id,
    membershipId: row.membership_id,
    role: row.role as Role,
  };
}
