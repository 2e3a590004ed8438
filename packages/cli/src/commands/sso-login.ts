import { spawn } from "node:child_process";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SessionTokenResponse } from "@tessera/protocol";
import { saveOrPrintCredential } from "../token-file.ts";
import { UsageError } from "./cli-errors.ts";

export const ssoLoginUsage = `Usage: tessera login --sso --org ID [options]

Signs on through the organisation's identity provider in a browser and prints the session
token JSON (or saves it). Nothing but a loopback listener and one HTTP exchange: no password
is asked for, no page is scraped.

Options:
  --org ID             Organisation id (required)
  --server URL         Tessera's URL (default: $TESSERA_SERVER or http://127.0.0.1:8080)
  --save FILE          Write the token JSON to FILE (mode 0600) instead of printing it
  --login-hint EMAIL   Passed to the identity provider to preselect the account
  --no-browser         Only print the URL to open
  --timeout SECONDS    How long to wait for the browser (default 300)
`;

interface LoginOptions {
  orgId: number;
  server: string;
  save: string | undefined;
  loginHint: string | undefined;
  openBrowser: boolean;
  timeoutSeconds: number;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): LoginOptions {
  const options: LoginOptions = {
    orgId: 0,
    server: env.TESSERA_SERVER ?? "http://127.0.0.1:8080",
    save: undefined,
    loginHint: undefined,
    openBrowser: true,
    timeoutSeconds: 300,
  };
  let sso = false;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = () => {
      const next = argv[++index];
      if (next === undefined) throw new UsageError(`${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case "--sso":
        sso = true;
        break;
      case "--org":
        options.orgId = Number(value());
        break;
      case "--server":
        options.server = value().replace(/\/+$/, "");
        break;
      case "--save":
        options.save = value();
        break;
      case "--login-hint":
        options.loginHint = value();
        break;
      case "--no-browser":
        options.openBrowser = false;
        break;
      case "--timeout":
        options.timeoutSeconds = Number(value());
        break;
      default:
        throw new UsageError(`unknown option "${flag}"`);
    }
  }
  if (!sso) throw new UsageError("only --sso is supported (password logins: POST /user/authenticate)");
  if (!Number.isSafeInteger(options.orgId) || options.orgId < 1) throw new UsageError("--org needs a positive integer");
  if (!Number.isFinite(options.timeoutSeconds) || options.timeoutSeconds <= 0) {
    throw new UsageError("--timeout needs a positive number of seconds");
  }
  return options;
}

/** Best effort: a desktop's URL opener, if there is one; its absence is never an error. */
function openInBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  try {
    const child = spawn(command, [url], { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No opener: the printed URL is enough.
  }
}

function page(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  response.end(`<!doctype html><title>Tessera</title><p>${message}</p>`);
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Waits on a loopback port (RFC 8252) for the browser to come back from the sign-on with a
 * handover code, then exchanges it at POST /sso/token. A random value in the return URL makes
 * sure only the redirect of this very sign-on is accepted, and the handover verifier that only
 * this process knows makes the code useless to anyone else.
 */
async function signOn(options: LoginOptions, print: (line: string) => void): Promise<SessionTokenResponse> {
  const expected = randomBytes(24).toString("base64url");
  const handoverVerifier = randomBytes(32).toString("base64url");
  let settle: { resolve: (token: SessionTokenResponse) => void; reject: (error: Error) => void } | undefined;
  const result = new Promise<SessionTokenResponse>((resolve, reject) => {
    settle = { resolve, reject };
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const presented = url.searchParams.get("s") ?? "";
    if (url.pathname !== "/callback" || !sameSecret(presented, expected)) return page(response, 404, "Not found.");
    const error = url.searchParams.get("error");
    if (error) {
      page(response, 400, "Sign-on failed. You can close this window and return to the terminal.");
      const description = url.searchParams.get("error_description");
      return settle?.reject(new Error(`sign-on refused: ${error}${description ? ` (${description})` : ""}`));
    }
    const code = url.searchParams.get("code") ?? "";
    const exchange = await fetch(`${options.server}/sso/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code, handoverVerifier }),
    });
    const body = (await exchange.json().catch(() => ({}))) as Record<string, unknown>;
    if (exchange.status !== 200) {
      page(response, 400, "Sign-on failed. You can close this window and return to the terminal.");
      return settle?.reject(new Error(`the handover failed: HTTP ${exchange.status} ${String(body.code ?? "")}`));
    }
    page(response, 200, "Signed in. You can close this window and return to the terminal.");
    settle?.resolve(body as unknown as SessionTokenResponse);
  };

  const listener = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) page(response, 500, "Sign-on failed.");
      settle?.reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as AddressInfo;
  const returnTo = `http://127.0.0.1:${port}/callback?s=${expected}`;
  const loginUrl = new URL(`${options.server}/sso/${options.orgId}/login`);
  loginUrl.searchParams.set("returnTo", returnTo);
  loginUrl.searchParams.set("handoverChallenge", createHash("sha256").update(handoverVerifier).digest("base64url"));
  if (options.loginHint) loginUrl.searchParams.set("loginHint", options.loginHint);

  print("Open this URL in a browser to sign on:");
  print(`  ${loginUrl.href}`);
  if (options.openBrowser) openInBrowser(loginUrl.href);

  const timer = setTimeout(
    () => settle?.reject(new Error(`no sign-on within ${options.timeoutSeconds} s`)),
    options.timeoutSeconds * 1000,
  );
  try {
    return await result;
  } finally {
    clearTimeout(timer);
    listener.close();
    listener.closeAllConnections();
  }
}

/** `tessera login --sso --org ID`: exit status 0 on success, 1 when the sign-on fails, 2 on bad usage. */
export async function runSsoLogin(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    process.stdout.write(ssoLoginUsage);
    return 0;
  }
  let options: LoginOptions;
  try {
    options = parseOptions(argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`tessera login: ${error.message}\n\n${ssoLoginUsage}`);
    return 2;
  }
  // Instructions go to standard error, so standard output carries only the token JSON.
  const print = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const token = await signOn(options, print);
    // The same file as a password login's, with the server, so `tessera token renew` needs no --server.
    saveOrPrintCredential(
      {
        server: options.server,
        tokenType: "Bearer",
        token: token.token,
        expiresAt: token.expiresAt,
        expiresIn: token.expiresIn,
        userId: token.userId,
        orgId: token.orgId,
      },
      options.save,
    );
    return 0;
  } catch (error) {
    process.stderr.write(`tessera login: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
