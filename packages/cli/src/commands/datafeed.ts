import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DatafeedLoop, ServiceSession, type ServiceSessionOptions, type V4Event } from "@tessera/client";
import { reportFailure, UsageError } from "./cli-errors.ts";

export const datafeedUsage = `Usage: tessera datafeed tail --pod URL --cert FILE --key FILE [--ca FILE] [--km URL] [--agent URL]
       tessera datafeed tail --pod URL --key-pair-user NAME --private-key FILE [--agent URL]

Prints the org's security and audit events as they happen, one line per event:
  <time> <TYPE> by <user> <payload as JSON>
It reuses the service user's first datafeed (or creates one) and acknowledges each batch once printed.
Ctrl-C stops it.

  --pod URL             the pod: its mutual-TLS listener (https://…:8443) with --cert, or its HTTP
                        listener with --key-pair-user
  --cert, --key FILE    the service user's client certificate (CN = username) and private key
  --ca FILE             the CA that signed Tessera's TLS certificate (<data dir>/tls/ca.pem)
  --km URL              the key manager's mutual-TLS listener (https://…:8444); default --pod
  --key-pair-user NAME  log in with an RSA key registered for this service user instead
  --private-key FILE    that RSA private key (PEM)
  --agent URL           where datafeeds are served (the HTTP listener); default --pod
`;

/** `tessera datafeed tail`. */
export async function runDatafeed(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  try {
    if (action === "--help" || action === "help" || action === undefined) {
      process.stdout.write(datafeedUsage);
      return action === undefined ? 2 : 0;
    }
    if (action !== "tail") throw new UsageError(`unknown datafeed action "${action}"`);
    const { values } = parseArgs({
      args: rest,
      options: {
        pod: { type: "string" },
        cert: { type: "string" },
        key: { type: "string" },
        ca: { type: "string" },
        km: { type: "string" },
        agent: { type: "string" },
        "key-pair-user": { type: "string" },
        "private-key": { type: "string" },
      },
      strict: true,
    });
    if (!values.pod) throw new UsageError("--pod is required");
    const options: ServiceSessionOptions = { podUrl: values.pod, agentUrl: values.agent ?? values.pod };
    if (values.ca) options.ca = readFileSync(values.ca, "utf8");
    if (values["key-pair-user"]) {
      if (!values["private-key"]) throw new UsageError("--key-pair-user needs --private-key");
      options.keyPair = { username: values["key-pair-user"], privateKey: readFileSync(values["private-key"], "utf8") };
    } else {
      if (!values.cert || !values.key)
        throw new UsageError("give --cert and --key, or --key-pair-user and --private-key");
      options.certificate = { cert: readFileSync(values.cert, "utf8"), key: readFileSync(values.key, "utf8") };
      if (values.km) options.keyManagerUrl = values.km;
    }
    return await tail(options);
  } catch (error) {
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      return reportFailure(new UsageError(error.message), datafeedUsage);
    }
    return reportFailure(error, datafeedUsage);
  }
}

async function tail(options: ServiceSessionOptions): Promise<number> {
  const session = await ServiceSession.authenticate(options);
  const loop = new DatafeedLoop({
    session,
    handler: (events) => {
      for (const event of events) process.stdout.write(`${formatEvent(event)}\n`);
    },
  });
  loop.on("feed", ({ id, created }) =>
    process.stderr.write(`tessera: ${created ? "created" : "reading"} datafeed ${id}\n`),
  );
  loop.on("failed", ({ error, stage }) => {
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(`tessera: ${stage} failed (${reason}); retrying\n`);
  });
  const stop = () => {
    void loop.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await loop.start();
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await session.close();
  }
  return 0;
}

/** One line: time, type, who, and the payload (which never holds a secret). */
export function formatEvent(event: V4Event): string {
  const user = event.initiator?.user ?? {};
  const who = user.email ?? user.username ?? (user.userId === undefined ? "system" : `user ${String(user.userId)}`);
  return `${new Date(event.timestamp).toISOString()} ${event.type} by ${String(who)} ${JSON.stringify(event.payload ?? {})}`;
}
