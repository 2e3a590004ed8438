import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPostgresUnavailableError } from "../../src/storage/dialects/postgres/unavailable-errors.ts";

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("which PostgreSQL errors mean 503 rather than 500", () => {
  it("recognises a server that is down, restarting, shutting down or unreachable", () => {
    const unavailable = [
      withCode("connect ECONNREFUSED 127.0.0.1:5432", "ECONNREFUSED"),
      withCode("read ECONNRESET", "ECONNRESET"),
      withCode("terminating connection due to administrator command", "57P01"),
      withCode("terminating connection because of crash of another server process", "57P02"),
      withCode("the database system is starting up", "57P03"),
      withCode("sorry, too many clients already", "53300"),
      withCode("connection failure", "08006"),
      new Error("Connection terminated unexpectedly"),
      new Error("timeout exceeded when trying to connect"),
      new Error("Connection terminated due to connection timeout", { cause: new Error("Connection terminated") }),
      new AggregateError([withCode("connect ECONNREFUSED ::1:5432", "ECONNREFUSED")], "connect failed"),
      new Error("wrapped", { cause: withCode("the database system is shutting down", "57P03") }),
    ];
    for (const error of unavailable) assert.equal(isPostgresUnavailableError(error), true, error.message);
  });

  it("leaves query mistakes and constraint violations to the ordinary error path", () => {
    const ordinary: unknown[] = [
      withCode('syntax error at or near "selec"', "42601"),
      withCode("duplicate key value violates unique constraint", "23505"),
      withCode('relation "nope" does not exist', "42P01"),
      new TypeError("Cannot read properties of undefined"),
      "not an error",
      undefined,
    ];
    for (const error of ordinary) assert.equal(isPostgresUnavailableError(error), false, String(error));
  });
});
