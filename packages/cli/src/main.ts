#!/usr/bin/env node
import { runCerts } from "./certs.ts";
import { runKeys } from "./keys.ts";

const usage = `Usage: tessera <command> [options]

Commands:
  serve     Run the server (every role by default). Options: see "tessera serve --help".
  login     Sign on through the organisation's identity provider: tessera login --sso --org ID
  certs     Dev CA and client certificates for service sessions: "tessera certs ca", "tessera certs issue --cn NAME".
  keys      "tessera keys rotate": a new signing key for authorization tokens.
  help      Show this help.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
      return runServe(rest);
    case "login": {
      const { runSsoLogin } = await import("./sso-login.ts");
      return runSsoLogin(rest);
    }
    case "certs":
      return runCerts(rest);
    case "keys":
      return runKeys(rest);
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
