import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { clientAddress } from "../../src/http/client-address.ts";

async function addressOf(headers: Record<string, string>, socket: string | undefined, trust: boolean): Promise<string> {
  const app = new Hono();
  app.get("/", (c) => c.text(clientAddress(c, socket, trust)));
  return (await app.request("/", { headers })).text();
}

describe("clientAddress", () => {
  it("is the socket's peer, with IPv4-mapped IPv6 folded to IPv4", async () => {
    expect(await addressOf({}, "::ffff:10.0.0.1", false)).toBe("10.0.0.1");
    expect(await addressOf({}, "::1", false)).toBe("::1");
    expect(await addressOf({}, undefined, false)).toBe("unknown");
  });

  it("ignores X-Forwarded-For unless TRUST_PROXY, then takes its first entry", async () => {
    const headers = { "x-forwarded-for": "203.0.113.9, 10.0.0.2" };
    expect(await addressOf(headers, "10.0.0.2", false)).toBe("10.0.0.2");
    expect(await addressOf(headers, "10.0.0.2", true)).toBe("203.0.113.9");
    expect(await addressOf({}, "10.0.0.2", true)).toBe("10.0.0.2");
  });
});
