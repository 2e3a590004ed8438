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
import { noContent } from "../access/route-schemas.ts";
import { adminTags, orgRoutes } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { createApplication, listApplications, updateApplication } from "./applications.ts";
import { addRsaKey, listRsaKeys, removeRsaKey } from "./rsa-keys.ts";

const tags = adminTags("service users");

/** contract §8: applications, whose names service users cannot hold while they are live. */
export function applicationAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/apps", {
      permission: "apps:read",
      schema: {
        tags,
        summary: "List the org's applications",
        params: Type.Object({ orgId: IdParam }),
        response: { 200: Type.Array(Application) },
      },
      handler: ({ orgId }) => listApplications(ctx, orgId),
    });

    org.post("/admin/orgs/:orgId/apps", {
      permission: "apps:write",
      schema: {
        tags,
        summary: "Create an application (name, manifest certificate, enabled)",
        params: Type.Object({ orgId: IdParam }),
        body: CreateApplicationRequest,
        response: { 201: Application },
      },
      handler: async ({ request, reply, caller, orgId }) =>
        reply.status(201).send(await createApplication(ctx, caller, orgId, request.body, request.ip)),
    });

    org.patch("/admin/orgs/:orgId/apps/:appId", {
      permission: "apps:write",
      schema: {
        tags,
        summary: "Enable, disable or mark an application for deletion",
        params: Type.Object({ orgId: IdParam, appId: IdParam }),
        body: UpdateApplicationRequest,
        response: { 200: Application },
      },
      handler: ({ request, caller, orgId }) =>
        updateApplication(ctx, caller, orgId, Number(request.params.appId), request.body, request.ip),
    });
  };
}

/** contract §8: service users' RSA public keys for key-pair login. */
export function rsaKeyAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const org = orgRoutes(app, ctx);

    org.get("/admin/orgs/:orgId/users/:userId/rsa-keys", {
      permission: "users:read",
      schema: {
        tags,
        summary: "List a service user's RSA public keys",
        params: Type.Object({ orgId: IdParam, userId: IdParam }),
        response: { 200: Type.Array(RsaPublicKey) },
      },
      handler: ({ request, orgId }) => listRsaKeys(ctx, orgId, Number(request.params.userId)),
    });

    org.post("/admin/orgs/:orgId/users/:userId/rsa-keys", {
      permission: "users:write",
      schema: {
        tags,
        summary: "Register an RSA public key (PEM) for a service user's key-pair login",
        params: Type.Object({ orgId: IdParam, userId: IdParam }),
        body: CreateRsaKeyRequest,
        response: { 201: RsaPublicKey },
      },
      handler: async ({ request, reply, caller, orgId }) => {
        const userId = Number(request.params.userId);
        const key = await addRsaKey(ctx, caller, orgId, userId, request.body.publicKeyPem, request.ip);
        return reply.status(201).send(key);
      },
    });

    org.delete("/admin/orgs/:orgId/users/:userId/rsa-keys/:keyId", {
      permission: "users:write",
      schema: {
        tags,
        summary: "Remove a service user's RSA public key",
        params: Type.Object({ orgId: IdParam, userId: IdParam, keyId: IdParam }),
        response: noContent,
      },
      handler: async ({ request, reply, caller, orgId }) => {
        const { userId, keyId } = request.params;
        await removeRsaKey(ctx, caller, orgId, Number(userId), Number(keyId), request.ip);
        return reply.status(204).send(null);
      },
    });
  };
}
