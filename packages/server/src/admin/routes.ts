import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import {
  ApiKeyList,
  AuditEventList,
  AuditQuery,
  CreateOrgRequest,
  CreateOrgUserRequest,
  Org,
  OrgParams,
  OrgResourceParams,
  OrgSessionParams,
  OrgUser,
  OrgUserList,
  OrgUserParams,
  PasswordPolicy,
  SessionList,
  SessionListQuery,
  SessionPolicy,
  UpdateOrgUserRequest,
} from "@tessera/protocol";
import { authenticate, authenticateInOrg } from "../access/principal.ts";
import { noContent, userSecurity } from "../access/route-schemas.ts";
import type { AppContext } from "../context.ts";
import { readPasswordPolicy, readSessionPolicy } from "../policies/policies.ts";
import { listApiKeys, revokeApiKey } from "./api-keys.ts";
import { auditPage, listAuditEvents } from "./audit.ts";
import { createOrg } from "./orgs.ts";
import { replacePasswordPolicy, replaceSessionPolicy } from "./policies.ts";
import { listLiveSessions, revokeOneSession, revokeOrgSessions, revokeUserSessions } from "./sessions.ts";
import { createOrgUser, listOrgUsers, updateOrgUser } from "./users.ts";

type App = Parameters<FastifyPluginAsyncTypebox>[0];

/**
 * DESIGN §8: org-scoped administration. Every handler authenticates against the org in the
 * path (a token of another org is 403), calls one domain function and shapes the answer.
 */
export function adminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    registerOrgRoutes(app, ctx);
    registerUserRoutes(app, ctx);
    registerPolicyRoutes(app, ctx);
    registerSessionRoutes(app, ctx);
    registerApiKeyRoutes(app, ctx);
    registerAuditRoutes(app, ctx);
  };
}

function registerOrgRoutes(app: App, ctx: AppContext): void {
  app.post("/admin/orgs", {
    schema: {
      tags: ["Admin: organisations"],
      summary: "Create an organisation (system admins); the caller becomes its owner",
      security: userSecurity,
      body: CreateOrgRequest,
      response: { 201: Org },
    },
    handler: async (request, reply) => {
      const caller = await authenticate(ctx, request);
      return reply.status(201).send(await createOrg(ctx, caller, request.body, request.ip));
    },
  });
}

function registerUserRoutes(app: App, ctx: AppContext): void {
  const tags = ["Admin: users"];
  app.get("/admin/orgs/:orgId/users", {
    schema: {
      tags,
      summary: "List the org's users and their memberships",
      security: userSecurity,
      params: OrgParams,
      response: { 200: OrgUserList },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      await authenticateInOrg(ctx, request, orgId, "users:read");
      return listOrgUsers(ctx, orgId);
    },
  });

  app.post("/admin/orgs/:orgId/users", {
    schema: {
      tags,
      summary: "Add a user (person or service user) to the org; an existing email gains a membership",
      security: userSecurity,
      params: OrgParams,
      body: CreateOrgUserRequest,
      response: { 201: OrgUser },
    },
    handler: async (request, reply) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "users:write");
      return reply.status(201).send(await createOrgUser(ctx, caller, orgId, request.body, request.ip));
    },
  });

  app.patch("/admin/orgs/:orgId/users/:userId", {
    schema: {
      tags,
      summary: "Change a member's role or activate/deactivate the membership; felt on the next request",
      security: userSecurity,
      params: OrgUserParams,
      body: UpdateOrgUserRequest,
      response: { 200: OrgUser },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "users:write");
      return updateOrgUser(ctx, caller, orgId, Number(request.params.userId), request.body, request.ip);
    },
  });
}

function registerPolicyRoutes(app: App, ctx: AppContext): void {
  const tags = ["Admin: policies"];
  app.get("/admin/orgs/:orgId/password-policy", {
    schema: {
      tags,
      summary: "The org's password policy",
      security: userSecurity,
      params: OrgParams,
      response: { 200: PasswordPolicy },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      await authenticateInOrg(ctx, request, orgId, "policies:read");
      return readPasswordPolicy(ctx.storage, orgId);
    },
  });

  app.put("/admin/orgs/:orgId/password-policy", {
    schema: {
      tags,
      summary: "Replace the org's password policy (the whole object)",
      security: userSecurity,
      params: OrgParams,
      body: PasswordPolicy,
      response: { 200: PasswordPolicy },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "policies:write");
      return replacePasswordPolicy(ctx, caller, orgId, request.body, request.ip);
    },
  });

  app.get("/admin/orgs/:orgId/session-policy", {
    schema: {
      tags,
      summary: "The org's session policy",
      security: userSecurity,
      params: OrgParams,
      response: { 200: SessionPolicy },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      await authenticateInOrg(ctx, request, orgId, "policies:read");
      return readSessionPolicy(ctx.storage, orgId);
    },
  });

  app.put("/admin/orgs/:orgId/session-policy", {
    schema: {
      tags,
      summary: "Replace the org's session policy (the whole object); applies to new sessions and renewals",
      security: userSecurity,
      params: OrgParams,
      body: SessionPolicy,
      response: { 200: SessionPolicy },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "policies:write");
      return replaceSessionPolicy(ctx, caller, orgId, request.body, request.ip);
    },
  });
}

function registerSessionRoutes(app: App, ctx: AppContext): void {
  const tags = ["Admin: sessions"];
  app.get("/admin/orgs/:orgId/sessions", {
    schema: {
      tags,
      summary: "List the org's live sessions, optionally of one user",
      security: userSecurity,
      params: OrgParams,
      querystring: SessionListQuery,
      response: { 200: SessionList },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      await authenticateInOrg(ctx, request, orgId, "sessions:read");
      const { userId } = request.query;
      return listLiveSessions(ctx, orgId, userId === undefined ? {} : { userId: Number(userId) });
    },
  });

  app.delete("/admin/orgs/:orgId/sessions/:sessionId", {
    schema: {
      tags,
      summary: "Revoke one session",
      security: userSecurity,
      params: OrgSessionParams,
      response: noContent,
    },
    handler: async (request, reply) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "sessions:revoke");
      await revokeOneSession(ctx, caller, orgId, Number(request.params.sessionId), request.ip);
      return reply.status(204).send(null);
    },
  });

  app.delete("/admin/orgs/:orgId/users/:userId/sessions", {
    schema: {
      tags,
      summary: "Revoke every session of one user in the org",
      security: userSecurity,
      params: OrgUserParams,
      response: noContent,
    },
    handler: async (request, reply) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "sessions:revoke");
      await revokeUserSessions(ctx, caller, orgId, Number(request.params.userId), request.ip);
      return reply.status(204).send(null);
    },
  });

  app.delete("/admin/orgs/:orgId/sessions", {
    schema: {
      tags,
      summary: "Revoke every session of the org, the caller's own included",
      security: userSecurity,
      params: OrgParams,
      response: noContent,
    },
    handler: async (request, reply) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "sessions:revoke");
      await revokeOrgSessions(ctx, caller, orgId, request.ip);
      return reply.status(204).send(null);
    },
  });
}

function registerApiKeyRoutes(app: App, ctx: AppContext): void {
  const tags = ["Admin: API keys"];
  app.get("/admin/orgs/:orgId/api-keys", {
    schema: {
      tags,
      summary: "List the org's API keys (never the keys themselves)",
      security: userSecurity,
      params: OrgParams,
      response: { 200: ApiKeyList },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      await authenticateInOrg(ctx, request, orgId, "api-keys:read");
      return listApiKeys(ctx, orgId);
    },
  });

  app.delete("/admin/orgs/:orgId/api-keys/:id", {
    schema: {
      tags,
      summary: "Revoke an API key; it answers 401 from its next use",
      security: userSecurity,
      params: OrgResourceParams,
      response: noContent,
    },
    handler: async (request, reply) => {
      const orgId = Number(request.params.orgId);
      const caller = await authenticateInOrg(ctx, request, orgId, "api-keys:write");
      await revokeApiKey(ctx, caller, orgId, Number(request.params.id), request.ip);
      return reply.status(204).send(null);
    },
  });
}

function registerAuditRoutes(app: App, ctx: AppContext): void {
  app.get("/admin/orgs/:orgId/audit", {
    schema: {
      tags: ["Admin: audit"],
      summary: "The org's audit events with id > after, oldest first (newest last)",
      security: userSecurity,
      params: OrgParams,
      querystring: AuditQuery,
      response: { 200: AuditEventList },
    },
    handler: async (request) => {
      const orgId = Number(request.params.orgId);
      await authenticateInOrg(ctx, request, orgId, "audit:read");
      return listAuditEvents(ctx, orgId, auditPage(request.query));
    },
  });
}
