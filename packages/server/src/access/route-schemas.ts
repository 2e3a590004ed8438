import { Type } from "@sinclair/typebox";

/** OpenAPI security requirement: a user-session bearer token or an API key. */
export const userSecurity: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { apiKey: [] }];

/**
 * The answer of a route that succeeds without a body. Error answers are not listed by routes:
 * each route's declared error shape adds them (see errors/error-handler.ts).
 */
export const noContent = { 204: Type.Null({ description: "No content" }) } as const;
