import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { recordAudit } from "./audit/audit.ts";
import { hashPassword } from "./crypto/passwords.ts";
import type { Database } from "./storage/schema.ts";
import { storePassword } from "./user-sessions/password.ts";
import { insertMembership, insertUser } from "./users/users.ts";

export const defaultBootstrapEmail = "admin@tessera.local";
export const bootstrapOrgName = "Default";

export interface BootstrapResult {
  orgId: number;
  email: string;
  /** Set only when Tessera generated it: shown once, then only its hash exists. */
  generatedPassword: string | undefined;
}

/**
 * First start: creates the bootstrap org and its owner, a system admin. A generated password
 * is one-time: it must be changed (POST /user/password) before the first login succeeds.
 * Later starts find an org and do nothing.
 */
export async function bootstrap(
  db: Kysely<Database>,
  now: number,
  admin: { email: string | undefined; password: string | undefined },
): Promise<BootstrapResult | undefined> {
  const existing = await db.selectFrom("orgs").select("id").limit(1).executeTakeFirst();
  if (existing) return undefined;
  const email = admin.email ?? defaultBootstrapEmail;
  const generatedPassword = admin.password === undefined ? randomBytes(18).toString("base64url") : undefined;
  const passwordHash = await hashPassword(admin.password ?? generatedPassword ?? "");
  return db.transaction().execute(async (trx) => {
    // Idempotent even without the start-up lock: a node that loses a race for the first
    // start finds the org taken and leaves everything to the winner.
    const org = await trx
      .insertInto("orgs")
      .values({ name: bootstrapOrgName, created_at: now })
      .onConflict((conflict) => conflict.column("name").doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!org) return undefined;
    const userId = await insertUser(
      trx,
      { email, homeOrgId: org.id, displayName: "Administrator", kind: "person", isSystemAdmin: true },
      now,
    );
    await storePassword(trx, userId, passwordHash, now);
    if (generatedPassword !== undefined) {
      await trx.updateTable("users").set({ must_change_password: 1 }).where("id", "=", userId).execute();
    }
    await insertMembership(trx, { orgId: org.id, userId, role: "owner" }, now);
    await recordAudit(trx, now, {
      type: "org.created",
      orgId: org.id,
      actorUserId: null,
      data: { name: bootstrapOrgName, bootstrap: true },
    });
    await recordAudit(trx, now, {
      type: "user.created",
      orgId: org.id,
      actorUserId: null,
      subjectUserId: userId,
      data: { email, role: "owner", bootstrap: true },
    });
    return { orgId: org.id, email, generatedPassword };
  });
}
