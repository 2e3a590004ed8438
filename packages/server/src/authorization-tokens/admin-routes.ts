import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { SigningKeyRotation } from "@tessera/protocol";
import { authenticate } from "../access/principal.ts";
import { userSecurity } from "../access/route-schemas.ts";
import { adminTags } from "../admin/org-route.ts";
import type { AppContext } from "../context.ts";
import { TesseraError } from "../errors/tessera-error.ts";
import { rotateSigningKeysAudited } from "./rotate.ts";

/** Signing-key rotation by a system admin (also `tessera keys rotate`). */
export function signingKeyAdminRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post("/admin/signing-keys/rotate", {
      schema: {
        tags: adminTags("signing keys"),
        summary: "Rotate the authorization-token signing key (system admins)",
        security: userSecurity,
        response: { 200: SigningKeyRotation },
      },
      handler: async (request) => {
        const principal = await authenticate(ctx, request);
        if (!principal.isSystemAdmin)
          throw new TesseraError("forbidden", "Only a system admin, with a user session, may rotate signing keys");
        return rotateSigningKeysAudited(ctx.db, ctx.clock.now(), { userId: principal.userId, ip: request.ip });
      },
    });
  };
}
