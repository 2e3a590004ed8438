/**
 * Baseline: how many argon2id verifications per second @node-rs/argon2 does here at Tessera's
 * parameters, with more calls in flight than libuv has threads (as a login storm has).
 * Argument: a JSON {concurrency, warmupSeconds, rounds, roundSeconds}. Prints the rounds.
 */
import { performance } from "node:perf_hooks";
import { hash, verify } from "@node-rs/argon2";
import { argon2Options } from "../../../packages/server/src/crypto/passwords.ts";
import { percentile, type Round } from "../stats.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as {
  concurrency: number;
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
};
const password = "correct horse battery staple";
const stored = await hash(password, argon2Options);

async function round(seconds: number): Promise<Round> {
  const latencies: number[] = [];
  let done = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      if (!(await verify(stored, password))) throw new Error("verify failed");
      latencies.push(performance.now() - begin);
      done++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const elapsed = (performance.now() - started) / 1000;
  return { rate: done / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), failures: 0 };
}

if (options.warmupSeconds > 0) await round(options.warmupSeconds);
const rounds: Round[] = [];
for (let index = 0; index < options.rounds; index++) rounds.push(await round(options.roundSeconds));
process.stdout.write(`${JSON.stringify(rounds)}\n`);
