/**
 * Rewrites the code table of docs/errors.md from the registry (packages/protocol/src/errors.ts).
 * `npm run docs:errors`; a test fails when the table and the registry disagree.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { errorCodes } from "../packages/protocol/src/errors.ts";

const file = new URL("../docs/errors.md", import.meta.url);
const text = readFileSync(file, "utf8");
const start = "<!-- codes:start -->\n";
const end = "<!-- codes:end -->";
const rows = Object.entries(errorCodes).map(([code, { status, title }]) => `| \`${code}\` | ${status} | ${title} |`);
const table = ["| code | status | meaning |", "| --- | --- | --- |", ...rows, ""].join("\n");
const before = text.slice(0, text.indexOf(start) + start.length);
const after = text.slice(text.indexOf(end));
if (!text.includes(start) || !text.includes(end)) throw new Error("docs/errors.md lacks the codes markers");
writeFileSync(file, before + table + after);
