import { ProblemBody, SymphonyErrorBody } from "@tessera/protocol";

/** OpenAPI security requirement: a user-session bearer token or an API key. */
export const userSecurity: { [scheme: string]: string[] }[] = [{ bearerAuth: [] }, { apiKey: [] }];

/** The problem+json answers every authenticated route may give. */
export const problemResponses = {
  "4xx": ProblemBody,
} as const;

/** The error answers of routes under Symphony's prefixes, in Symphony's shape. */
export const symphonyErrorResponses = {
  "4xx": SymphonyErrorBody,
} as const;
