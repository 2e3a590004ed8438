import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import * as client from "../src/index.ts";

const sourceDir = new URL("../src/", import.meta.url);
const sources = readdirSync(sourceDir)
  .filter((file) => file.endsWith(".ts"))
  .map((file) => readFileSync(new URL(file, sourceDir), "utf8"));
const index = readFileSync(new URL("index.ts", sourceDir), "utf8");

/** Every name index.ts exports, values and types alike. */
const exportedNames = [...index.matchAll(/export \{([^}]*)\}/g)].flatMap((match) =>
  (match[1] ?? "")
    .split(",")
    .map((name) => name.replace(/^\s*type\s+/, "").trim())
    .filter((name) => name !== ""),
);

describe("@tessera/client documentation", () => {
  it("exports what index.ts lists", () => {
    assert.ok(exportedNames.length > 30);
    for (const name of ["UserSession", "ServiceSession", "DatafeedLoop", "tesseraFetch", "TesseraClientError"]) {
      assert.ok(name in client, `${name} is exported`);
    }
  });

  it("gives every export a TSDoc comment with an @example", () => {
    const undocumented = exportedNames.filter((name) => {
      const declaration = new RegExp(
        `/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*export (?:declare )?(?:abstract )?(?:class|interface|type|function|async function|const) ${name}\\b`,
      );
      const comment = sources.map((source) => declaration.exec(source)?.[1]).find((found) => found !== undefined);
      return comment === undefined || !comment.includes("@example");
    });
    assert.deepEqual(undocumented, []);
  });
});
