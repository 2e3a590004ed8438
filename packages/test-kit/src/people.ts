import { hashPassword } from "@tessera/server/internal/crypto/passwords.ts";
import { storePassword } from "@tessera/server/internal/user-sessions/password.ts";
import type { TestInstance } from "./instance.ts";

export const personPassword = "a long enough test password";

/**
 * Creates an org directly in the store (the admin API lives elsewhere), as test set-up.
 */
export async function createOrg(tessera: TestInstance, name: string): Promise<number> {
  const org = await tessera.ctx.db
    .insertInto("orgs")
    .values({ name, created_at: tessera.clock.now() })
    .returning("id")
    .executeTakeFirstOrThrow();
  return org.id;
}

/**
 * Creates a person with a password and active memberships in `orgIds`, as test set-up.
 */
export async function createPerson(
  tessera: TestInstance,
  email: string,
  orgIds: number[],
  role: "owner" | "admin" | "auditor" | "member" = "member",
): Promise<number> {
  const now = tessera.clock.now();
  const passwordHash = await hashPassword(personPassword);
  return tessera.ctx.db.transaction().execute(async (trx) => {
    const user = await trx
      .insertInto("users")
      .values({
        email,
        display_name: email,
        kind: "person",
        username: null,
        password_hash: null,
        password_changed_at: null,
        must_change_password: 0,
        active: 1,
        is_system_admin: 0,
        failed_attempts: 0,
        locked_until: null,
        created_at: now,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await storePassword(trx, user.id, passwordHash, now);
    for (const orgId of orgIds) {
      await trx
        .insertInto("memberships")
        .values({ org_id: orgId, user_id: user.id, role, active: 1, created_at: now })
        .execute();
    }
    return user.id;
  });
}

/** How many audit events of `type` the server recorded (for counting logins and renewals). */
export async function countAudit(tessera: TestInstance, type: string): Promise<number> {
  const row = await tessera.ctx.db
    .selectFrom("audit_events")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("type", "=", type)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** How many requests the server answered for `method route` (its own Prometheus counter). */
export async function countRequests(tessera: TestInstance, method: string, route: string): Promise<number> {
  const metric = await tessera.ctx.metrics.requests.get();
  return metric.values
    .filter((value) => value.labels.method === method && value.labels.route === route)
    .reduce((sum, value) => sum + value.value, 0);
}
