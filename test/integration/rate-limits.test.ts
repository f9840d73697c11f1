// Per-IP rate limits (docs/operating.md, "Rate limits"): the HTTP API answers 429 with Retry-After and the
// X-RateLimit-* headers, WebSocket connections are refused before the upgrade, and with the redis
// driver the budget is shared by the nodes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { reachable, requireService, uniquePrefix } from "../adapters/cluster.ts";
import { rawClient } from "../helpers/clients.ts";
import { scrape, total } from "../helpers/observe.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");

const LIMITS = {
  RATE_LIMITER_ENABLED: "true",
  RATE_LIMITER_API_MAX_REQUESTS: "3",
  RATE_LIMITER_API_WINDOW_SECONDS: "60",
  RATE_LIMITER_WS_MAX_CONNECTIONS: "2",
  RATE_LIMITER_WS_WINDOW_SECONDS: "60",
  ADAPTER_DRIVER: "local",
};

const get = (server: TestServer, path = "/apps/app-id/channels", headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${server.port}${path}`, { headers });

/** The HTTP status a WebSocket handshake got: 101 when it opened. */
function handshake(server: TestServer, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/app/${server.key}?protocol=7`, { headers });
    ws.on("open", () => {
      ws.close();
      resolve(101);
    });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on("error", () => {});
  });
}

describe("per-IP limits, memory driver", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ env: LIMITS });
  });
  afterAll(() => server?.stop());

  it("the API answers 429 past the limit, with Retry-After and X-RateLimit-*", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await get(server);
      expect(res.status).toBe(401); // counted before the signature check: unsigned calls count too
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(2 - i));
    }
    const limited = await get(server);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(Number(limited.headers.get("x-ratelimit-reset"))).toBeGreaterThan(0);
    expect((await limited.json()).error).toMatch(/Too many requests from 127\.0\.0\.1/);
    // Health checks are not limited: a load balancer must keep seeing the node.
    expect((await get(server, "/up")).status).toBe(200);
  });

  it("WebSocket connections past the limit are refused with 429 before the upgrade", async () => {
    expect(await handshake(server)).toBe(101);
    expect(await handshake(server)).toBe(101);
    expect(await handshake(server)).toBe(429);
  });

  it("ignores X-Forwarded-For without TRUST_PROXY", async () => {
    expect((await get(server, "/apps/app-id/channels", { "x-forwarded-for": "203.0.113.5" })).status).toBe(429);
  });

  it("counts the refusals in rate_limited_total", async () => {
    const samples = await scrape(server);
    expect(total(samples, "switchboard_rate_limited_total", 'scope="ip_api"')).toBeGreaterThanOrEqual(2);
    expect(total(samples, "switchboard_rate_limited_total", 'scope="ip_websocket"')).toBe(1);
  });
});

describe("TRUST_PROXY", () => {
  it("gives each X-Forwarded-For client its own budget", async () => {
    const server = await startServer({ env: { ...LIMITS, TRUST_PROXY: "true" } });
    try {
      for (let i = 0; i < 3; i++) await get(server, "/apps/app-id/channels", { "x-forwarded-for": "203.0.113.1" });
      expect((await get(server, "/apps/app-id/channels", { "x-forwarded-for": "203.0.113.1" })).status).toBe(429);
      expect((await get(server, "/apps/app-id/channels", { "x-forwarded-for": "203.0.113.2, 10.0.0.1" })).status).toBe(401);
      expect(await handshake(server, { "x-forwarded-for": "198.51.100.1" })).toBe(101);
      expect(await handshake(server, { "x-forwarded-for": "198.51.100.1" })).toBe(101);
      expect(await handshake(server, { "x-forwarded-for": "198.51.100.1" })).toBe(429);
      expect(await handshake(server, { "x-forwarded-for": "198.51.100.2" })).toBe(101);
    } finally {
      await server.stop();
    }
  });

  it("gives no fresh budget to a client that writes its own X-Forwarded-For before the proxy's entry", async () => {
    // As behind nginx (proxy_add_x_forwarded_for): the proxy appends the address it saw.
    for (const trust of ["true", "127.0.0.1/32"]) {
      const server = await startServer({ env: { ...LIMITS, TRUST_PROXY: trust } });
      try {
        const spoofed = () => ({ "x-forwarded-for": `${Math.floor(Math.random() * 250)}.1.2.3, 203.0.113.7` });
        const statuses = [];
        for (let i = 0; i < 4; i++) statuses.push((await get(server, "/apps/app-id/channels", spoofed())).status);
        expect(statuses).toEqual([401, 401, 401, 429]);
        const ws = [];
        for (let i = 0; i < 3; i++) ws.push(await handshake(server, spoofed()));
        expect(ws).toEqual([101, 101, 429]);
      } finally {
        await server.stop();
      }
    }
  });
});

describe.skipIf(!redisUp)("per-IP limits shared by 2 nodes, redis driver", () => {
  let nodes: TestServer[];
  beforeAll(async () => {
    const env = { ...LIMITS, RATE_LIMITER_DRIVER: "redis", REDIS_URL: "redis://127.0.0.1:6379", REDIS_PREFIX: uniquePrefix("iplimit") };
    nodes = await Promise.all([startServer({ env }), startServer({ env })]);
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  it("the API budget spans the nodes", async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await get(nodes[i % 2]!)).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expect((await get(nodes[0]!)).status).toBe(429);
  });

  it("the WebSocket budget spans the nodes", async () => {
    expect(await handshake(nodes[0]!)).toBe(101);
    expect(await handshake(nodes[1]!)).toBe(101);
    expect(await handshake(nodes[0]!)).toBe(429);
    expect(await handshake(nodes[1]!)).toBe(429);
    // Connections already open are not affected.
    (await rawClient(nodes[0]!, undefined, { established: false })).close();
  });
});

describe("per-IP limits, redis driver with Redis down", () => {
  it("allows requests (and says why) instead of hanging or locking clients out", async () => {
    const server = await startServer({ env: { ...LIMITS, RATE_LIMITER_DRIVER: "redis", REDIS_URL: "redis://127.0.0.1:1", RATE_LIMITER_TIMEOUT_MS: "200" } });
    try {
      for (let i = 0; i < 5; i++) expect((await get(server)).status).toBe(401);
      expect(await handshake(server)).toBe(101);
      expect(server.output()).toMatch(/rate limiter \(redis\) unreachable/);
      const samples = await scrape(server);
      expect(total(samples, "switchboard_backend_up", 'role="rate_limiter"')).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
