import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { returnUrlAllowed } from "../../src/sso/urls.ts";

describe("returnTo allow-list (open-redirect guard)", () => {
  const allowed = ["https://app.example.com/signed-in"];

  it("accepts an allow-listed URL with any query, and loopback IP URLs on any port", () => {
    assert.equal(returnUrlAllowed("https://app.example.com/signed-in", allowed), true);
    assert.equal(returnUrlAllowed("https://app.example.com/signed-in?tab=2", allowed), true);
    assert.equal(returnUrlAllowed("http://127.0.0.1:53123/callback?s=x", allowed), true);
    assert.equal(returnUrlAllowed("http://[::1]:8000/cb", allowed), true);
  });

  it("refuses look-alikes: other paths, ports, schemes, hosts, credentials, fragments, localhost", () => {
    for (const url of [
      "https://app.example.com/signed-in/../admin",
      "https://app.example.com/signed-in-elsewhere",
      "https://app.example.com:8443/signed-in",
      "http://app.example.com/signed-in",
      "https://app.example.com.evil.test/signed-in",
      "https://app.example.com@evil.test/signed-in",
      "http://127.0.0.1@evil.test/callback",
      "https://app.example.com/signed-in#code",
      "http://localhost:5000/callback",
      "javascript:alert(1)",
      "//evil.test/signed-in",
      "not a url",
    ]) {
      assert.equal(returnUrlAllowed(url, allowed), false, url);
    }
  });
});

describe("TESSERA_PUBLIC_URL", () => {
  it("is read from the environment without a trailing slash", () => {
    const config = loadConfig({ env: { TESSERA_PUBLIC_URL: "https://auth.example.com/" } });
    assert.equal(config.publicUrl, "https://auth.example.com");
    assert.equal(loadConfig({ env: {} }).publicUrl, undefined);
  });

  it("stops start-up with a message naming the setting when it is not an http(s) URL", () => {
    for (const value of ["auth.example.com", "ftp://auth.example.com", "https://auth.example.com/?x=1"]) {
      assert.throws(
        () => loadConfig({ env: { TESSERA_PUBLIC_URL: value } }),
        (error: unknown) => error instanceof ConfigError && error.setting === "TESSERA_PUBLIC_URL",
        value,
      );
    }
  });
});
