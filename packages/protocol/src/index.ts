export * from "./errors.ts";
export * from "./roles.ts";
export * from "./schemas/admin.ts";
export * from "./schemas/common.ts";
export * from "./schemas/service-sessions.ts";
export * from "./schemas/sso.ts";
export * from "./schemas/user-sessions.ts";
export * from "./tokens.ts";
