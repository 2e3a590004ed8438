import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import {
  Application,
  CreateApplicationRequest,
  CreateRsaKeyRequest,
  IdParam,
  RsaPublicKey,
  UpdateApplicationRequest,
} from "@tessera/protocol";
import { authenticateInOrg } from "../access/principal.ts";
import { noContent, userSecurity } from "../access/route-schemas.ts";
import type { AppContext } from "../context.ts";
import { createApplication, listApplications, updateApplication } from "./applications.ts";
import { addRsaKey, listRsaKeys, removeRsaKey } from "./rsa-keys.ts";

const tags = ["Administration: service users"];

/** DESIGN §8: applications, whose names service users cannot hold while they are live. */
export function applicationAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/admin/orgs/:orgId/apps", {
      schema: {
        tags,
        summary: "List the org's applications",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam }),
        response: { 200: Type.Array(Application) },
      },
      handler: async (request) => {
        const orgId = Number(request.params.orgId);
        await authenticateInOrg(ctx, request, orgId, "apps:read");
        return listApplications(ctx, orgId);
      },
    });

    app.post("/admin/orgs/:orgId/apps", {
      schema: {
        tags,
        summary: "Create an application (name, manifest certificate, enabled)",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam }),
        body: CreateApplicationRequest,
        response: { 201: Application },
      },
      handler: async (request, reply) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "apps:write");
        return reply.status(201).send(await createApplication(ctx, principal, orgId, request.body, request.ip));
      },
    });

    app.patch("/admin/orgs/:orgId/apps/:appId", {
      schema: {
        tags,
        summary: "Enable, disable or mark an application for deletion",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam, appId: IdParam }),
        body: UpdateApplicationRequest,
        response: { 200: Application },
      },
      handler: async (request) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "apps:write");
        return updateApplication(ctx, principal, orgId, Number(request.params.appId), request.body, request.ip);
      },
    });
  };
}

/** DESIGN §8: service users' RSA public keys for key-pair login. */
export function rsaKeyAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get("/admin/orgs/:orgId/users/:userId/rsa-keys", {
      schema: {
        tags,
        summary: "List a service user's RSA public keys",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam, userId: IdParam }),
        response: { 200: Type.Array(RsaPublicKey) },
      },
      handler: async (request) => {
        const orgId = Number(request.params.orgId);
        await authenticateInOrg(ctx, request, orgId, "users:read");
        return listRsaKeys(ctx, orgId, Number(request.params.userId));
      },
    });

    app.post("/admin/orgs/:orgId/users/:userId/rsa-keys", {
      schema: {
        tags,
        summary: "Register an RSA public key (PEM) for a service user's key-pair login",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam, userId: IdParam }),
        body: CreateRsaKeyRequest,
        response: { 201: RsaPublicKey },
      },
      handler: async (request, reply) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "users:write");
        const key = await addRsaKey(
          ctx,
          principal,
          orgId,
          Number(request.params.userId),
          request.body.publicKeyPem,
          request.ip,
        );
        return reply.status(201).send(key);
      },
    });

    app.delete("/admin/orgs/:orgId/users/:userId/rsa-keys/:keyId", {
      schema: {
        tags,
        summary: "Remove a service user's RSA public key",
        security: userSecurity,
        params: Type.Object({ orgId: IdParam, userId: IdParam, keyId: IdParam }),
        response: noContent,
      },
      handler: async (request, reply) => {
        const orgId = Number(request.params.orgId);
        const principal = await authenticateInOrg(ctx, request, orgId, "users:write");
        await removeRsaKey(
          ctx,
          principal,
          orgId,
          Number(request.params.userId),
          Number(request.params.keyId),
          request.ip,
        );
        return reply.status(204).send(null);
      },
    });
  };
}
