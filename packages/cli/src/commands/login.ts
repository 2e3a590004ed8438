import { parseArgs } from "node:util";
import { errorFromResponse, UserSession } from "@tessera/client";
import type { MeResponse } from "@tessera/protocol";
import { promptHidden } from "../prompt.ts";
import { type SavedCredential, saveOrPrintCredential } from "../token-file.ts";
import { reportFailure, UsageError } from "./cli-errors.ts";

export const loginUsage = `Usage: tessera login --server URL --email EMAIL [--org ID] [--save FILE]
       tessera login --server URL --api-key-env VAR [--save FILE]

Logs in and prints the session token as JSON, or writes it to FILE (mode 0600) with --save.
The password is read from TESSERA_PASSWORD, or asked for without echo in a terminal.
With --api-key-env, the API key in environment variable VAR is checked and used instead.
`;

/** `tessera login` with a password or an API key (single sign-on is dispatched elsewhere). */
export async function runLogin(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        server: { type: "string" },
        email: { type: "string" },
        org: { type: "string" },
        "api-key-env": { type: "string" },
        save: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(loginUsage);
      return 0;
    }
    const server = values.server ?? process.env.TESSERA_SERVER;
    if (!server) throw new UsageError("--server is required");
    const credential = values["api-key-env"]
      ? await checkApiKey(server, values["api-key-env"])
      : await loginWithPassword(server, values.email, values.org);
    saveOrPrintCredential(credential, values.save);
    return 0;
  } catch (error) {
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      return reportFailure(new UsageError(error.message), loginUsage);
    }
    return reportFailure(error, loginUsage);
  }
}

async function readPassword(): Promise<string> {
  const fromEnv = process.env.TESSERA_PASSWORD;
  if (fromEnv) return fromEnv;
  if (!process.stdin.isTTY) throw new UsageError("set TESSERA_PASSWORD, or run in a terminal to be asked for it");
  return promptHidden("Password: ");
}

async function loginWithPassword(
  server: string,
  email: string | undefined,
  org: string | undefined,
): Promise<SavedCredential> {
  if (!email) throw new UsageError("--email is required (or --api-key-env)");
  if (org !== undefined && !/^[1-9][0-9]{0,15}$/.test(org)) throw new UsageError("--org must be a positive integer");
  const password = await readPassword();
  const session = await UserSession.login({
    baseUrl: server,
    email,
    password,
    ...(org === undefined ? {} : { selectedOrg: Number(org) }),
    renewal: { autoRenew: false },
  });
  const expiresAt = Math.floor((session.expiresAt?.getTime() ?? 0) / 1000);
  return {
    server,
    tokenType: "Bearer",
    token: session.token,
    expiresAt,
    expiresIn: Math.max(0, expiresAt - Math.floor(Date.now() / 1000)),
    userId: session.userId,
    orgId: session.orgId,
  };
}

async function checkApiKey(server: string, variable: string): Promise<SavedCredential> {
  const apiKey = process.env[variable];
  if (!apiKey) throw new UsageError(`the environment variable ${variable} is empty`);
  const session = UserSession.fromApiKey({ baseUrl: server, apiKey });
  const response = await session.fetch("/user/users/me");
  if (!response.ok) throw await errorFromResponse(response);
  const me = (await response.json()) as MeResponse;
  return { server, tokenType: "ApiKey", apiKey, expiresAt: null, userId: me.id, orgId: me.currentOrg.id };
}
