import { type Migration, Migrator } from "kysely";
import type { StorageDialect } from "./dialects/dialect.ts";
import * as initial from "./migrations/001-initial.ts";
import * as serviceSessions from "./migrations/002-service-sessions.ts";
import * as sso from "./migrations/003-sso.ts";
import * as datafeeds from "./migrations/004-datafeeds.ts";
import * as ssoHandoverBinding from "./migrations/005-sso-handover-binding.ts";
import * as homeOrgsAndInvitations from "./migrations/006-home-orgs-and-invitations.ts";
import * as unknownEmailFailures from "./migrations/007-unknown-email-failures.ts";
import * as keyPairTokenUses from "./migrations/008-key-pair-token-uses.ts";
import * as trustedCaKeyIds from "./migrations/008-trusted-ca-key-ids.ts";
import * as introspectionClients from "./migrations/009-introspection-clients.ts";

/** Ordered by name; a new migration is a new file plus one line here. */
const migrations = {
  "001-initial": initial,
  "002-service-sessions": serviceSessions,
  "003-sso": sso,
  "004-datafeeds": datafeeds,
  "005-sso-handover-binding": ssoHandoverBinding,
  "006-home-orgs-and-invitations": homeOrgsAndInvitations,
  "007-unknown-email-failures": unknownEmailFailures,
  "008-key-pair-token-uses": keyPairTokenUses,
  "008-trusted-ca-key-ids": trustedCaKeyIds,
  "009-introspection-clients": introspectionClients,
};

export async function migrateToLatest(dialect: StorageDialect): Promise<void> {
  const provided: Record<string, Migration> = {};
  for (const [name, migration] of Object.entries(migrations)) {
    provided[name] = { up: (db) => migration.up(db, dialect) };
  }
  const migrator = new Migrator({
    db: dialect.db,
    provider: { getMigrations: async () => provided },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
