import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createPubkeyJwt } from "@tessera/client";
import { addUser } from "./admin.ts";
import { uniqueEmail } from "./fixtures.ts";
import type { TestInstance, TestResponse } from "./instance.ts";

/** A service user with a registered RSA key, for key-pair login on the HTTP listener. */
export interface Bot {
  id: number;
  username: string;
  privateKeyPem: string;
}

export interface AgentTokens {
  sessionToken: string;
  keyManagerToken: string;
}

/** Adds a service user (role `service` or `auditor`) and registers an RSA public key for it. */
export async function addBot(
  tessera: TestInstance,
  adminToken: string,
  role: "service" | "auditor" = "service",
): Promise<Bot> {
  const username = uniqueEmail("bot").replace(/@.*/, "");
  const user = await addUser(tessera, adminToken, { kind: "service", username, role });
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const added = await tessera.request(`/admin/orgs/${tessera.orgId}/users/${user.id}/rsa-keys`, {
    token: adminToken,
    body: { publicKeyPem: keys.publicKey.export({ type: "spki", format: "pem" }).toString() },
  });
  assert.ok(added.status === 200 || added.status === 201, added.text);
  return { id: user.id, username, privateKeyPem: keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
}

/** A fresh sessionToken and keyManagerToken for `bot` (key-pair login, signed at the server's time). */
export async function agentLogin(tessera: TestInstance, bot: Bot): Promise<AgentTokens> {
  const tokens: string[] = [];
  for (const path of ["/login/pubkey/authenticate", "/relay/pubkey/authenticate"]) {
    const response = await tessera.request(path, {
      // A jti per token: tests log in several times within one second of the test clock.
      body: { token: createPubkeyJwt(bot.username, bot.privateKeyPem, tessera.clock.now(), { jti: randomUUID() }) },
    });
    assert.equal(response.status, 200, response.text);
    tokens.push(response.body.token as string);
  }
  return { sessionToken: tokens[0] ?? "", keyManagerToken: tokens[1] ?? "" };
}

/** Calls an agent path with both tokens. */
export function agentRequest(
  tessera: TestInstance,
  tokens: AgentTokens,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<TestResponse> {
  return tessera.request(path, {
    ...init,
    headers: { sessionToken: tokens.sessionToken, keyManagerToken: tokens.keyManagerToken, ...init.headers },
  });
}

/** Creates a feed and returns its id. */
export async function createFeed(tessera: TestInstance, tokens: AgentTokens): Promise<string> {
  const created = await agentRequest(tessera, tokens, "/agent/v5/datafeeds", { body: {} });
  assert.equal(created.status, 201, created.text);
  return created.body.id as string;
}

/** One read of `feedId` with `ackId`. */
export async function readFeed(
  tessera: TestInstance,
  tokens: AgentTokens,
  feedId: string,
  ackId: string,
): Promise<{ events: Array<{ id: string; type: string; [key: string]: unknown }>; ackId: string }> {
  const response = await agentRequest(tessera, tokens, `/agent/v5/datafeeds/${feedId}/read`, { body: { ackId } });
  assert.equal(response.status, 200, response.text);
  return response.body;
}
