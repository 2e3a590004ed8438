import { parseArgs } from "node:util";
import { errorFromResponse, UserSession } from "@tessera/client";
import { readCredentialFile, type SavedCredential, writeCredentialFile } from "../token-file.ts";
import { reportFailure, UsageError } from "./cli-errors.ts";

export const tokenUsage = `Usage: tessera token info  --server URL [--token-file FILE]
       tessera token renew --server URL [--token-file FILE]

info   shows who the token belongs to, its org, role, permissions and expiry (GET /user/users/me).
renew  renews a session token (a new 15-minute window) and rewrites FILE, or prints the new token.
Without --token-file the token is read from TESSERA_TOKEN.
`;

/** `tessera token info|renew`. */
export async function runToken(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  try {
    if (action === "--help" || action === "help" || action === undefined) {
      process.stdout.write(tokenUsage);
      return action === undefined ? 2 : 0;
    }
    if (action !== "info" && action !== "renew") throw new UsageError(`unknown token action "${action}"`);
    const { values } = parseArgs({
      args: rest,
      options: { server: { type: "string" }, "token-file": { type: "string" } },
      strict: true,
    });
    const file = values["token-file"];
    const saved = file ? readCredentialFile(file) : fromEnvironment(values.server);
    const server = values.server ?? saved.server;
    if (!server) throw new UsageError("--server is required");
    const session =
      saved.tokenType === "ApiKey"
        ? UserSession.fromApiKey({ baseUrl: server, apiKey: saved.apiKey })
        : UserSession.fromToken({
            baseUrl: server,
            token: saved.token,
            expiresAt: new Date(saved.expiresAt * 1000),
            renewal: { autoRenew: false },
          });
    return action === "info" ? await showInfo(session) : await renew(session, saved, server, file);
  } catch (error) {
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      return reportFailure(new UsageError(error.message), tokenUsage);
    }
    return reportFailure(error, tokenUsage);
  }
}

function fromEnvironment(server: string | undefined): SavedCredential {
  const token = process.env.TESSERA_TOKEN;
  if (!token) throw new UsageError("give --token-file, or set TESSERA_TOKEN");
  // The expiry is unknown: it only bounds how long a renewal keeps retrying, so allow a minute.
  const expiresAt = Math.floor(Date.now() / 1000) + 60;
  return {
    server: server ?? "",
    tokenType: "Bearer",
    token,
    expiresAt,
    expiresIn: 60,
    userId: undefined,
    orgId: undefined,
  };
}

async function showInfo(session: UserSession): Promise<number> {
  const response = await session.fetch("/user/users/me");
  if (!response.ok) throw await errorFromResponse(response);
  process.stdout.write(`${JSON.stringify(await response.json(), null, 2)}\n`);
  return 0;
}

async function renew(
  session: UserSession,
  saved: SavedCredential,
  server: string,
  file: string | undefined,
): Promise<number> {
  if (session.isApiKey) throw new UsageError("API keys do not expire and are never renewed");
  await session.renew();
  const expiresAt = Math.floor((session.expiresAt?.getTime() ?? 0) / 1000);
  const renewed: SavedCredential = {
    server,
    tokenType: "Bearer",
    token: session.token,
    expiresAt,
    expiresIn: Math.max(0, expiresAt - Math.floor(Date.now() / 1000)),
    userId: session.userId ?? saved.userId,
    orgId: session.orgId ?? saved.orgId,
  };
  if (file) {
    writeCredentialFile(file, renewed);
    process.stderr.write(`Renewed; ${file} is valid until ${new Date(expiresAt * 1000).toISOString()}.\n`);
  } else {
    process.stdout.write(`${JSON.stringify(renewed, null, 2)}\n`);
  }
  return 0;
}
