#!/usr/bin/env node
// The server (and its native modules) loads only for "serve": client commands stay light.

const usage = `Usage: tessera <command> [options]

Commands:
  serve     Run the server (every role by default). Options: see "tessera serve --help".
  login     Log in with a password or an API key; print or save the token. See "tessera login --help".
  token     info | renew: inspect or renew a saved token. See "tessera token --help".
  help      Show this help.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest);
    case "login":
      // Each login method has its own file; single sign-on (--sso) is dispatched separately.
      if (rest.includes("--sso")) {
        process.stderr.write("tessera: login --sso is not available in this build\n");
        return 2;
      }
      return (await import("./commands/login.ts")).runLogin(rest);
    case "token":
      return (await import("./commands/token.ts")).runToken(rest);
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
  const { ConfigError, loadConfig, serve } = await import("@tessera/server");
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ argv, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera: invalid setting ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const server = await serve(config);
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
