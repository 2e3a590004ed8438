import assert from "node:assert/strict";
import { generateKeyPairSync, verify } from "node:crypto";
import { describe, it } from "node:test";
import { createPubkeyJwt } from "../src/index.ts";

describe("createPubkeyJwt", () => {
  it("signs an RS512 JWT for the username that expires within five minutes", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const now = Date.UTC(2030, 0, 1);
    const jwt = createPubkeyJwt("billing-bot", privateKey, now);
    const [header, payload, signature] = jwt.split(".") as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(header, "base64url").toString()), { alg: "RS512", typ: "JWT" });
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    assert.equal(claims.sub, "billing-bot");
    assert.ok(claims.exp > now / 1000 && claims.exp <= now / 1000 + 300);
    assert.ok(verify("sha512", Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, "base64url")));
  });

  it("refuses a key that is not RSA", () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    assert.throws(() => createPubkeyJwt("bot", privateKey, Date.now()), TypeError);
  });
});
