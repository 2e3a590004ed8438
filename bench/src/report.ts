import type { Round, Summary } from "./stats.ts";

export interface Scenario {
  name: string;
  group: string;
  connections: number;
  rate: Summary;
  p50Ms: Summary;
  p99Ms: Summary;
  failures: number;
  rounds: Round[];
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

function find(scenarios: Scenario[], name: string): Scenario {
  const scenario = scenarios.find((candidate) => candidate.name.startsWith(name));
  if (!scenario) throw new Error(`no scenario "${name}"`);
  return scenario;
}

const times = (value: number) => `${value.toFixed(2)}×`;

/** The targets of the benchmark issue, each met or not, from medians. */
export function evaluateTargets(
  scenarios: Scenario[],
  context: { fewLabel: string; manyLabel: string; rssPerSessionBytes: number },
): Target[] {
  const rate = (name: string) => find(scenarios, name).rate.median;
  const bare = rate("bare node:http");
  const meMany = find(scenarios, `validation GET /user/users/me, ${context.manyLabel}`);
  const meFew = find(scenarios, `validation GET /user/users/me, ${context.fewLabel}`);
  const idle = find(scenarios, "validation at").p99Ms.median;
  const stormed = scenarios.filter((scenario) => scenario.name.startsWith("validation at"))[1]?.p99Ms.median ?? NaN;
  const login = rate("password login");
  const ratio = (a: number, b: number) => a / b;
  const drift = Math.abs(meMany.rate.median / meFew.rate.median - 1);
  return [
    {
      target: `validation ≥ 0.70× bare node:http at ${context.manyLabel}`,
      measured: times(ratio(meMany.rate.median, bare)),
      met: ratio(meMany.rate.median, bare) >= 0.7,
    },
    {
      target: `validation p99 < 5 ms at ${meMany.connections} connections, ${context.manyLabel}`,
      measured: `${meMany.p99Ms.median.toFixed(1)} ms`,
      met: meMany.p99Ms.median < 5,
    },
    {
      target: `validation at ${context.manyLabel} within 10 % of ${context.fewLabel}`,
      measured: `${(drift * 100).toFixed(1)} %`,
      met: drift <= 0.1,
    },
    {
      target: "renewal ≥ 0.25× bare node:http",
      measured: times(ratio(rate("renewal"), bare)),
      met: ratio(rate("renewal"), bare) >= 0.25,
    },
    {
      target: "password login ≥ 0.90× raw argon2id verify",
      measured: times(ratio(login, rate("raw argon2id verify"))),
      met: ratio(login, rate("raw argon2id verify")) >= 0.9,
    },
    {
      target: "validation p99 during a login storm < 2× idle",
      measured: `${stormed.toFixed(1)} ms vs ${idle.toFixed(1)} ms (${times(stormed / idle)})`,
      met: stormed < 2 * idle,
    },
    {
      target: "certificate login ≥ 0.85× raw mutual TLS",
      measured: times(ratio(rate("certificate login"), rate("raw mutual TLS"))),
      met: ratio(rate("certificate login"), rate("raw mutual TLS")) >= 0.85,
    },
    {
      target: "validation ≥ 3× Better Auth get-session",
      measured: times(ratio(meFew.rate.median, rate("Better Auth get-session"))),
      met: ratio(meFew.rate.median, rate("Better Auth get-session")) >= 3,
    },
    {
      target: "password login ≥ 2× Better Auth sign-in",
      measured: times(ratio(login, rate("Better Auth sign-in"))),
      met: ratio(login, rate("Better Auth sign-in")) >= 2,
    },
    {
      target: "≤ 1 KB RSS per live session",
      measured: `${context.rssPerSessionBytes.toFixed(0)} B`,
      met: context.rssPerSessionBytes <= 1024,
    },
  ];
}

const range = (summary: Summary, digits: number) =>
  `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}–${summary.max.toFixed(digits)})`;

/** The table printed at the end of a run (Markdown, so it can be pasted into the README). */
export function formatTable(report: {
  scenarios: Scenario[];
  targets: Target[];
  machine: { cpus: number; cpuModel: string; node: string };
  loadAverageBefore: number[];
  durationSeconds: number;
  mode: string;
}): string {
  const lines = [
    `Tessera benchmark (${report.mode}): ${report.machine.cpus} cores (${report.machine.cpuModel}), Node ${report.machine.node}, load average before ${report.loadAverageBefore.map((value) => value.toFixed(2)).join(" ")}, ${report.durationSeconds.toFixed(0)} s`,
    "",
    "| scenario | conns | req/s median (min–max) | p50 ms | p99 ms | failures |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...report.scenarios.map(
      (scenario) =>
        `| ${scenario.name} | ${scenario.connections} | ${range(scenario.rate, 0)} | ${scenario.p50Ms.median.toFixed(1)} | ${range(scenario.p99Ms, 1)} | ${scenario.failures} |`,
    ),
    "",
    "| target | measured | met |",
    "| --- | ---: | :---: |",
    ...report.targets.map((target) => `| ${target.target} | ${target.measured} | ${target.met ? "met" : "not met"} |`),
  ];
  return lines.join("\n");
}

export function printTable(report: Parameters<typeof formatTable>[0]): void {
  process.stdout.write(`\n${formatTable(report)}\n`);
}
