import type { Principal } from "../access/principal.ts";
import { recordAudit } from "../audit/audit.ts";
import { parseCertificatePem } from "../certificates/client-chain.ts";
import { isUsableClientCertificate } from "../certificates/path-validation.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";

export interface ApplicationView {
  id: number;
  name: string;
  enabled: boolean;
  markedForDeletion: boolean;
  hasManifestCertificate: boolean;
  createdAt: number;
}

interface ApplicationRow {
  id: number;
  name: string;
  manifest_certificate_pem: string | null;
  enabled: 0 | 1;
  marked_for_deletion: 0 | 1;
  created_at: number;
}

function view(row: ApplicationRow): ApplicationView {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled === 1,
    markedForDeletion: row.marked_for_deletion === 1,
    hasManifestCertificate: row.manifest_certificate_pem !== null,
    createdAt: Math.floor(row.created_at / 1000),
  };
}

const columns = ["id", "name", "manifest_certificate_pem", "enabled", "marked_for_deletion", "created_at"] as const;

export async function listApplications(ctx: AppContext, orgId: number): Promise<ApplicationView[]> {
  const rows = await ctx.db
    .selectFrom("applications")
    .select(columns)
    .where("org_id", "=", orgId)
    .orderBy("id")
    .execute();
  return rows.map(view);
}

export async function createApplication(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  input: { name: string; manifestCertificatePem?: string | null; enabled: boolean },
  ip: string,
): Promise<ApplicationView> {
  const pem = input.manifestCertificatePem ?? null;
  // Refuse what is not a certificate at all; an expired one is stored (it simply does not count as valid).
  const manifestCertificate = pem === null ? null : parseCertificatePem(pem).toString();
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom("applications")
      .select("id")
      .where("org_id", "=", orgId)
      .where("name", "=", input.name)
      .executeTakeFirst();
    if (existing) throw new TesseraError("conflict", `An application named "${input.name}" exists (id ${existing.id})`);
    const row = {
      org_id: orgId,
      name: input.name,
      manifest_certificate_pem: manifestCertificate,
      enabled: input.enabled ? 1 : 0,
      marked_for_deletion: 0,
      created_at: now,
    } as const;
    const inserted = await trx.insertInto("applications").values(row).returning("id").executeTakeFirstOrThrow();
    await recordAudit(trx, now, {
      type: "application.created",
      orgId,
      actorUserId: principal.userId,
      data: { applicationId: inserted.id, name: input.name, enabled: input.enabled, manifestCertificate: pem !== null },
      ip,
    });
    return view({ id: inserted.id, ...row });
  });
}

export async function updateApplication(
  ctx: AppContext,
  principal: Principal,
  orgId: number,
  applicationId: number,
  changes: { enabled?: boolean; markedForDeletion?: boolean },
  ip: string,
): Promise<ApplicationView> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const set: { enabled?: 0 | 1; marked_for_deletion?: 0 | 1 } = {};
    if (changes.enabled !== undefined) set.enabled = changes.enabled ? 1 : 0;
    if (changes.markedForDeletion !== undefined) set.marked_for_deletion = changes.markedForDeletion ? 1 : 0;
    const updated = await trx
      .updateTable("applications")
      .set(set)
      .where("id", "=", applicationId)
      .where("org_id", "=", orgId)
      .returning(columns)
      .executeTakeFirst();
    if (!updated) throw new TesseraError("not_found", "No such application in this organisation");
    await recordAudit(trx, now, {
      type: "application.updated",
      orgId,
      actorUserId: principal.userId,
      data: { applicationId, ...changes },
      ip,
    });
    return view(updated);
  });
}

/**
 * Symphony refuses a service user whose name an application holds when that application is
 * enabled, not marked for deletion, and has a valid certificate in its manifest (valid: it
 * parses, is inside its validity period now and could authenticate a client by the same leaf
 * rules as a login certificate: not a CA, clientAuth when it lists purposes). Any one
 * condition false lets the user in.
 */
export async function assertNoApplicationConflict(ctx: AppContext, orgId: number, username: string): Promise<void> {
  const candidates = await ctx.db
    .selectFrom("applications")
    .select(["name", "manifest_certificate_pem"])
    .where("org_id", "=", orgId)
    .where("enabled", "=", 1)
    .where("marked_for_deletion", "=", 0)
    .where("manifest_certificate_pem", "is not", null)
    .execute();
  const now = ctx.clock.now();
  for (const application of candidates) {
    if (application.name.toLowerCase() !== username.toLowerCase() || application.manifest_certificate_pem === null)
      continue;
    let certificate: ReturnType<typeof parseCertificatePem>;
    try {
      certificate = parseCertificatePem(application.manifest_certificate_pem);
    } catch {
      continue;
    }
    if (isUsableClientCertificate(certificate, now)) {
      throw new TesseraError(
        "application_name_conflict",
        `The application "${application.name}" is enabled and has a valid manifest certificate`,
      );
    }
  }
}
