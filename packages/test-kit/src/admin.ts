import assert from "node:assert/strict";
import type { Role } from "@tessera/protocol";
import { memberPassword, uniqueEmail } from "./fixtures.ts";
import type { TestInstance, TestResponse } from "./instance.ts";

/** Set-up and checks through the administration API, as an admin would do them. */

export interface AddedUser {
  id: number;
  orgUserId: number;
  email: string;
  role: Role;
}

/** Adds a user to `orgId` (asserting 201), with `memberPassword` unless told otherwise, and returns the created row. */
export async function addUser(
  tessera: TestInstance,
  adminToken: string,
  user: { email?: string; role: Role; password?: string | null; kind?: "person" | "service"; username?: string },
  orgId = tessera.orgId,
): Promise<AddedUser> {
  const email = user.email ?? uniqueEmail(user.role);
  const body: Record<string, unknown> = { email, role: user.role };
  if (user.password !== null && user.kind !== "service") body.password = user.password ?? memberPassword;
  if (user.kind) body.kind = user.kind;
  if (user.username) body.username = user.username;
  const response = await tessera.request(`/admin/orgs/${orgId}/users`, { token: adminToken, body });
  assert.equal(response.status, 201, response.text);
  return { id: response.body.id, orgUserId: response.body.orgUserId, email, role: user.role };
}

/** Adds a person with `role` and logs them in: their user row and a live session token. */
export async function addMemberWithSession(
  tessera: TestInstance,
  adminToken: string,
  role: Role,
  orgId = tessera.orgId,
): Promise<AddedUser & { token: string }> {
  const user = await addUser(tessera, adminToken, { role }, orgId);
  return { ...user, token: await tessera.login(user.email, memberPassword, orgId) };
}

/** Creates an API key acting as `orgUserId` (the caller must be an org admin) and returns the key. */
export async function createApiKey(tessera: TestInstance, adminToken: string, orgUserId: number): Promise<string> {
  const response = await tessera.request("/user/apiKey", { token: adminToken, body: { orgUserId, name: "test key" } });
  assert.equal(response.status, 200, response.text);
  return response.body.apiKey as string;
}

/** A second org created by the bootstrap admin (a system admin), with its token there. */
export async function createSecondOrg(
  tessera: TestInstance,
  adminToken: string,
  name = `Other ${uniqueEmail("org")}`,
): Promise<{ orgId: number; token: string }> {
  const response = await tessera.request("/admin/orgs", { token: adminToken, body: { name } });
  assert.equal(response.status, 201, response.text);
  const orgId = response.body.id as number;
  return { orgId, token: await tessera.login(undefined, undefined, orgId) };
}

/** Every audit event of the org, oldest first. */
// biome-ignore lint/suspicious/noExplicitAny: tests inspect arbitrary JSON answers
export async function auditEvents(tessera: TestInstance, token: string, orgId = tessera.orgId): Promise<any[]> {
  const response = await tessera.request(`/admin/orgs/${orgId}/audit?limit=1000`, { token });
  assert.equal(response.status, 200, response.text);
  return response.body;
}

/** Asserts a problem+json answer with `status` and the registry `code`. */
export function assertProblem(response: TestResponse, status: number, code: string): void {
  assert.equal(response.status, status, response.text);
  assert.equal(response.body?.code, code, response.text);
  assert.match(response.headers.get("content-type") ?? "", /^application\/problem\+json/);
}
