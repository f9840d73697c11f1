import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { clientAddress, isSecureRequest, parseProxyTrust } from "../../src/http/client-address.ts";

async function addressOf(headers: Record<string, string>, socket: string | undefined, trust: string): Promise<string> {
  const app = new Hono();
  app.get("/", (c) => c.text(clientAddress(c, socket, parseProxyTrust(trust))));
  return (await app.request("/", { headers })).text();
}

async function secure(headers: Record<string, string>, socket: string, trust: string): Promise<boolean> {
  const app = new Hono();
  app.get("/", (c) => c.text(String(isSecureRequest(c, socket, parseProxyTrust(trust)))));
  return (await app.request("http://node/", { headers })).text().then((t) => t === "true");
}

describe("clientAddress", () => {
  it("is the socket's peer, with IPv4-mapped IPv6 folded to IPv4", async () => {
    expect(await addressOf({}, "::ffff:10.0.0.1", "false")).toBe("10.0.0.1");
    expect(await addressOf({}, "::1", "false")).toBe("::1");
    expect(await addressOf({}, undefined, "false")).toBe("unknown");
  });

  it("ignores X-Forwarded-For without TRUST_PROXY", async () => {
    expect(await addressOf({ "x-forwarded-for": "203.0.113.9" }, "10.0.0.2", "false")).toBe("10.0.0.2");
  });

  it("takes the entry the trusted proxy added, not what the client wrote before it", async () => {
    // The client sent "X-Forwarded-For: 1.2.3.4"; nginx appended the address it saw.
    const headers = { "x-forwarded-for": "1.2.3.4, 203.0.113.9" };
    expect(await addressOf(headers, "10.0.0.2", "true")).toBe("203.0.113.9");
    expect(await addressOf(headers, "10.0.0.2", "1")).toBe("203.0.113.9");
    // Two proxies (a cloud balancer, then nginx): the second entry from the right.
    expect(await addressOf({ "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.0.0.7" }, "10.0.0.2", "2")).toBe("203.0.113.9");
    // More hops trusted than the header has: the left-most entry, never past it.
    expect(await addressOf({ "x-forwarded-for": "203.0.113.9" }, "10.0.0.2", "5")).toBe("203.0.113.9");
    expect(await addressOf({}, "10.0.0.2", "true")).toBe("10.0.0.2");
  });

  it("with proxy addresses, skips every hop from a trusted proxy and takes the first other one", async () => {
    const headers = { "x-forwarded-for": "1.2.3.4, 203.0.113.9, 10.1.2.3" };
    expect(await addressOf(headers, "10.0.0.2", "10.0.0.0/8")).toBe("203.0.113.9");
    expect(await addressOf(headers, "127.0.0.1", "10.0.0.0/8")).toBe("127.0.0.1"); // the peer is no proxy of ours
    expect(await addressOf({ "x-forwarded-for": "2001:db8::5" }, "::1", "::1, fd00::/8")).toBe("2001:db8::5");
    expect(await addressOf({ "x-forwarded-for": "203.0.113.9" }, "::ffff:127.0.0.1", "127.0.0.1")).toBe("203.0.113.9");
  });

  it("refuses a TRUST_PROXY that is neither a switch, a hop count nor addresses", () => {
    expect(() => parseProxyTrust("10.0.0.0/33")).toThrow(/prefix length/);
    expect(() => parseProxyTrust("yes please")).toThrow(/not true, false, a number of proxy hops/);
    expect(() => parseProxyTrust("1.2.3")).toThrow(/not true, false/);
  });
});

describe("isSecureRequest", () => {
  it("believes X-Forwarded-Proto only from a trusted proxy", async () => {
    const https = { "x-forwarded-proto": "https" };
    expect(await secure(https, "10.0.0.2", "false")).toBe(false);
    expect(await secure(https, "10.0.0.2", "true")).toBe(true);
    expect(await secure(https, "10.0.0.2", "10.0.0.0/8")).toBe(true);
    expect(await secure(https, "192.0.2.1", "10.0.0.0/8")).toBe(false);
    expect(await secure({}, "10.0.0.2", "true")).toBe(false);
  });
});
