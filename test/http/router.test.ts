// The shared router in-process: what every runtime answers outside the API handlers themselves.
import { afterEach, describe, expect, it } from "vitest";
import { createRouter, type CorsSettings, type RouterOptions } from "../../src/http/router.ts";
import { LocalRateLimiter } from "../../src/rate-limiters/local.ts";
import { Harness } from "../helpers/harness.ts";

const CORS: CorsSettings = { origins: ["*"], methods: ["GET", "POST", "OPTIONS"], headers: ["Content-Type"], credentials: false };

const running: Harness[] = [];
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop();
});

async function router(cors?: CorsSettings, health?: RouterOptions["health"]) {
  const harness = await new Harness().start();
  running.push(harness);
  return createRouter({
    server: harness.server,
    sockets: { upgrade: () => undefined, connInfo: () => ({ remote: { address: "127.0.0.1" } }) },
    rateLimiter: new LocalRateLimiter(() => harness.timers.now()),
    cors,
    health,
  });
}

describe("the catch-all 404", () => {
  it("carries the CORS headers, so browser code can read it", async () => {
    const r = await router(CORS);
    for (const path of ["/no-such-page", "/apps/app-id/no-such-route"]) {
      const res = await r.request(`http://localhost${path}`, { headers: { origin: "https://site.example" } });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: "Not found" });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("access-control-expose-headers")).toContain("Retry-After");
    }
  });

  it("answers a preflight on an unknown path like one on the API", async () => {
    const r = await router(CORS);
    const res = await r.request("http://localhost/no-such-page", {
      method: "OPTIONS", headers: { origin: "https://site.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,OPTIONS");
  });

  it("has no CORS headers when CORS is off", async () => {
    const res = await (await router()).request("http://localhost/no-such-page", { headers: { origin: "https://site.example" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("the health routes", () => {
  it("take the memory figures and the threshold from the one health object", async () => {
    const rss = 600;
    const r = await router(undefined, { memoryUsage: () => ({ rss, heapUsed: 1, heapTotal: 2 }), totalMemory: () => 1000, acceptTrafficThreshold: 50 });
    const refused = await r.request("http://localhost/accept-traffic");
    expect(refused.status).toBe(503);
    expect((await refused.json()).error).toMatch(/60\.0 % is above 50 %/);
    expect(await (await r.request("http://localhost/usage")).json()).toMatchObject({ memory: { rss }, connections: 0 });
  });

  it("without it, accept traffic and report no memory", async () => {
    const r = await router();
    expect((await r.request("http://localhost/accept-traffic")).status).toBe(200);
    expect(await (await r.request("http://localhost/usage")).json()).toEqual({ memory: null, connections: 0 });
  });
});
