import { describe, expect, it } from "vitest";
import { redirectToHttps } from "../../runtimes/sidecars.ts";

describe("redirectToHttps", () => {
  it("answers 301 to the same host, path and query on the TLS port", () => {
    const res = redirectToHttps(6002)(new Request("http://example.test:8080/apps/1/channels?x=1"));
    expect(res.status).toBe(301);
    expect(res.headers.get("location")).toBe("https://example.test:6002/apps/1/channels?x=1");
    expect(redirectToHttps(443)(new Request("http://example.test/")).headers.get("location")).toBe("https://example.test/");
  });
});
