import { ConfigError, loadConfig, openStorage, rotateSigningKeysAudited } from "@tessera/server";

type Print = (line: string) => void;

/** `tessera keys rotate [serve options]`: a new authorization-token signing key; old ones stay published until their tokens expire. */
export async function runKeys(
  argv: readonly string[],
  print: Print = (line) => process.stdout.write(`${line}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand !== "rotate") {
    process.stderr.write("Usage: tessera keys rotate [--data-dir DIR | --database-url URL]\n");
    return subcommand === undefined || subcommand === "--help" ? 0 : 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ argv: rest, env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tessera: invalid setting ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const rotation = await rotateSigningKeysAudited(storage.db, Date.now(), { userId: null, ip: null });
    print(`New signing key: ${rotation.kid}`);
    if (rotation.retired.length > 0) {
      print(`Retired (published for five more minutes, until their tokens expire): ${rotation.retired.join(", ")}`);
    }
    return 0;
  } finally {
    await storage.close();
  }
}
