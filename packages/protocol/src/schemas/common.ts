import { type Static, Type } from "@sinclair/typebox";
import { roles } from "../roles.ts";

/** Positive integer identifiers, as both APIs Tessera reproduces use. */
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

// At most 15 digits: every such number is below 2^53 and survives Number() exactly.
export const IdParam = Type.String({ pattern: "^[1-9][0-9]{0,14}$", description: "A positive integer" });

export const RoleName = Type.Union(
  roles.map((role) => Type.Literal(role)),
  { description: "owner | admin | auditor | member | service" },
);

export const ProblemBody = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    code: Type.String({ description: "Stable machine-readable error code" }),
  },
  { additionalProperties: true, description: "RFC 9457 problem details" },
);

export const Email = Type.String({ minLength: 3, maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" });
export const Password = Type.String({ minLength: 1, maxLength: 1024 });

export type IdParamType = Static<typeof IdParam>;
