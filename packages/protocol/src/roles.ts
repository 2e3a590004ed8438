/** Roles a membership can hold in an organisation (contract §8). */
export const roles = ["owner", "admin", "auditor", "member", "service"] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  "self:read",
  "self:write",
  "org:read",
  "users:read",
  "users:write",
  "policies:read",
  "policies:write",
  "sessions:read",
  "sessions:revoke",
  "api-keys:read",
  "api-keys:write",
  "audit:read",
  "trusted-cas:read",
  "trusted-cas:write",
  "apps:read",
  "apps:write",
  "tokens:introspect",
] as const;
export type Permission = (typeof permissions)[number];

const adminPermissions: readonly Permission[] = permissions;

/** What each role may do. Checked on the server on every request, from current data. */
export const rolePermissions: Readonly<Record<Role, readonly Permission[]>> = {
  owner: adminPermissions,
  admin: adminPermissions,
  auditor: [
    "self:read",
    "self:write",
    "org:read",
    "users:read",
    "sessions:read",
    "audit:read",
    "trusted-cas:read",
    "apps:read",
    "tokens:introspect",
  ],
  member: ["self:read", "self:write"],
  // Resource servers often run as service users: they may ask whether a presented token is live.
  service: ["self:read", "tokens:introspect"],
};

export function roleAllows(role: Role, permission: Permission): boolean {
  return rolePermissions[role].includes(permission);
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (roles as readonly string[]).includes(value);
}
