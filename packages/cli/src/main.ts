#!/usr/bin/env node
// The server (and its native modules) loads only for "serve": client commands stay light.

const usage = `Usage: tessera <command> [options]

Commands:
  serve     Run the server (every role by default). Options: see "tessera serve --help".
  login     Log in with a password or an API key (see "tessera login --help"), or through the
            organisation's identity provider: tessera login --sso --org ID
  token     info | renew: inspect or renew a saved token. See "tessera token --help".
  certs     Dev CA and client certificates for service sessions: "tessera certs ca", "tessera certs issue --cn NAME".
  keys      "tessera keys rotate": a new signing key for authorization tokens.
  datafeed  "tessera datafeed tail": the org's security and audit events, live. See "tessera datafeed --help".
  help      Show this help.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest);
    case "login":
      // Each login method has its own file.
      if (rest.includes("--sso")) return (await import("./commands/sso-login.ts")).runSsoLogin(rest);
      return (await import("./commands/login.ts")).runLogin(rest);
    case "token":
      return (await import("./commands/token.ts")).runToken(rest);
    case "certs":
      return (await import("./commands/certs.ts")).runCerts(rest);
    case "keys":
      return (await import("./commands/keys.ts")).runKeys(rest);
    case "datafeed":
      return (await import("./commands/datafeed.ts")).runDatafeed(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`tessera: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

async function runServe(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    const { settings } = await import("@tessera/server");
    process.stdout.write("Usage: tessera serve [options]\n\n");
    for (const spec of Object.values(settings)) {
      const fallback = "default" in spec ? ` (default ${spec.default})` : "";
      process.stdout.write(`  ${spec.flag.padEnd(28)} ${spec.env.padEnd(34)} ${spec.description}${fallback}\n`);
    }
    return 0;
  }
  // Loaded here, not at the top: other commands (login) need none of the server's dependencies.
  const { ConfigError, loadConfig, serve } = await import("@tessera/server");
  let server: Awaited<ReturnType<typeof serve>>;
  try {
    server = await serve(loadConfig({ argv, env: process.env }));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera: invalid setting ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return new Promise<number>(() => {});
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`tessera: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
