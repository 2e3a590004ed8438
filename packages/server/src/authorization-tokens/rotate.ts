import type { Kysely } from "kysely";
import { recordAudit } from "../audit/audit.ts";
import type { Database } from "../storage/schema.ts";
import { rotateSigningKeys } from "./signing-keys.ts";

/** Rotates the signing key and records who did it, in one transaction (admin call and `tessera keys rotate`). */
export async function rotateSigningKeysAudited(
  db: Kysely<Database>,
  now: number,
  actor: { userId: number | null; ip: string | null },
): Promise<{ kid: string; retired: string[] }> {
  return db.transaction().execute(async (trx) => {
    const rotation = await rotateSigningKeys(trx, now);
    await recordAudit(trx, now, {
      type: "signing_key.rotated",
      orgId: null,
      actorUserId: actor.userId,
      data: rotation,
      ip: actor.ip,
    });
    return rotation;
  });
}
