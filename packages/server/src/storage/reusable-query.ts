import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import type { Database } from "./schema.ts";

/**
 * A query on the hot path, built and compiled once per database (its SQL differs by dialect) and
 * then run with new parameters: building and compiling a Kysely query costs more than running it.
 * `build` uses placeholder values; `run` passes the real ones in the order they appear in the SQL.
 */
export function reusableQuery<Row>(build: (db: Kysely<Database>) => Compilable<Row>) {
  const texts = new WeakMap<Kysely<Database>, string>();
  return async (db: Kysely<Database>, parameters: readonly unknown[]): Promise<Row[]> => {
    let text = texts.get(db);
    if (text === undefined) {
      const compiled = build(db).compile();
      if (compiled.parameters.length !== parameters.length) {
        throw new Error(`reusableQuery: ${parameters.length} parameters given, ${compiled.parameters.length} expected`);
      }
      text = compiled.sql;
      texts.set(db, text);
    }
    const result = await db.executeQuery<Row>(CompiledQuery.raw(text, [...parameters]));
    return result.rows;
  };
}
