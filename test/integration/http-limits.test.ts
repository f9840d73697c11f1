// Server-wide request body limit (HTTP_MAX_BODY_KB → 413) and the per-app REST rate limits
// (APP_MAX_BACKEND_EVENTS_PER_SECOND / APP_MAX_READ_REQUESTS_PER_SECOND → 429, spec §6.10).
// Limits use fixed one-second windows, so every 429 asserted here is caused either by a single
// request that alone exceeds the limit or by a burst far larger than the limit.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdk, type Frame, type RawClient } from "../helpers/clients.ts";
import { outcome, send, signedRequest, subscribed, type RawResponse } from "../helpers/rest.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const UNLIMITED = { id: "unlimited", key: "unlimited-key", secret: "unlimited-secret" };
let server: TestServer;
let unlimited: TestServer;
const open: RawClient[] = [];
beforeAll(async () => {
  server = await startServer({
    env: {
      HTTP_MAX_BODY_KB: "4",
      APP_MAX_BACKEND_EVENTS_PER_SECOND: "5",
      APP_MAX_READ_REQUESTS_PER_SECOND: "2",
      APPS: JSON.stringify([UNLIMITED]),
    },
  });
  unlimited = { ...server, appId: UNLIMITED.id, key: UNLIMITED.key, secret: UNLIMITED.secret };
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
});

const event = (dataBytes: number, channels = ["body-limit"]) => JSON.stringify({ name: "e", data: "x".repeat(dataBytes), channels });

describe("HTTP_MAX_BODY_KB", () => {
  it("accepts a body under the limit", async () => {
    expect((await signedRequest(unlimited, "POST", "/events", event(3000))).status).toBe(200);
  });

  it("answers a larger body with 413 {error}, before checking the signature", async () => {
    const signed = await signedRequest(unlimited, "POST", "/events", event(4200));
    expect(signed.status).toBe(413);
    expect(signed.json).toEqual({ error: expect.any(String) });
    const unsigned = await send(server, "POST", `/apps/${UNLIMITED.id}/events`, event(4200));
    expect(unsigned.status).toBe(413);
  });

  it("also stops a streamed body without Content-Length", async () => {
    // A raw chunked request: the server may answer 413 and close while the rest is still being
    // sent, and fetch then reports the failed write (EPIPE) instead of the answer.
    const body = event(8000);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, server.host);
      let text = "";
      socket.on("data", (chunk) => (text += chunk.toString("utf8")));
      socket.on("end", () => resolve(text));
      socket.on("close", () => resolve(text));
      socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "EPIPE" || error.code === "ECONNRESET" ? resolve(text) : reject(error)));
      socket.write(`POST /apps/${UNLIMITED.id}/events HTTP/1.1\r\nHost: ${server.host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`);
      for (let i = 0; i < body.length; i += 1000) {
        const part = body.slice(i, i + 1000);
        socket.write(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
      }
      socket.write("0\r\n\r\n");
    });
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    const json = response.slice(response.indexOf("\r\n\r\n") + 4);
    expect(json).toMatch(/"error":"/);
  });

  it("refuses an oversized declared length before looking the app up; a small body to an unknown app is a 404", async () => {
    expect((await send(server, "POST", "/apps/no-such-app/events", event(4200))).status).toBe(413);
    expect((await send(server, "POST", "/apps/no-such-app/events", event(10))).status).toBe(404);
  });
});

describe("APP_MAX_BACKEND_EVENTS_PER_SECOND (one point per event × channel)", () => {
  const channels = (count: number) => Array.from({ length: count }, (_, i) => `rl-${i}`);

  it("rejects a trigger that alone exceeds the limit with 429, publishing nothing; smaller ones pass", async () => {
    const raw = await subscribed(server, "rl-0");
    open.push(raw);
    const over = await signedRequest(server, "POST", "/events", event(1, channels(6)));
    expect(over.status).toBe(429);
    expect(over.json).toEqual({ error: expect.any(String) });
    expectRateHeaders(over, 5);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    const batch = await outcome(sdk(server).triggerBatch(channels(6).map((channel) => ({ name: "b", channel, data: "x" }))));
    expect(batch.status).toBe(429);

    // Rejected requests consume nothing, so this one fits in the window.
    const ok = await signedRequest(server, "POST", "/events", JSON.stringify({ name: "fits", data: "1", channels: ["rl-0"] }));
    expect(ok.status).toBe(200);
    expectRateHeaders(ok, 5);
    expect(ok.headers.get("retry-after")).toBeNull();
    // The subscriber's first event is "fits": the rejected trigger and batch delivered nothing.
    expect(await raw.next((f: Frame) => f.channel === "rl-0" && !f.event.startsWith("pusher"))).toMatchObject({ event: "fits" });
  });

  it("does not limit another app of the same server", async () => {
    expect((await signedRequest(unlimited, "POST", "/events", event(1, channels(50)))).status).toBe(200);
  });
});

describe("APP_MAX_READ_REQUESTS_PER_SECOND (one point per GET)", () => {
  it("answers a burst far above the limit with some 429s carrying Retry-After", async () => {
    const paths = ["/channels", "/channels/rl-0", "/channels/presence-x/users"];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => signedRequest(server, "GET", paths[i % 3]!)));
    const limited = results.filter((r) => r.status === 429);
    const passed = results.filter((r) => r.status === 200);
    expect(limited.length).toBeGreaterThan(0);
    expect(passed.length).toBeGreaterThan(0);
    expect(limited.length + passed.length).toBe(results.length);
    for (const r of limited) {
      expect(r.json).toEqual({ error: expect.any(String) });
      expectRateHeaders(r, 2);
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    for (const r of passed) expectRateHeaders(r, 2);
  });

  it("does not limit another app of the same server", async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => signedRequest(unlimited, "GET", "/channels")));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(results[0]!.headers.get("x-ratelimit-limit")).toBeNull();
  });
});

function expectRateHeaders(res: RawResponse, limit: number): void {
  expect(res.headers.get("x-ratelimit-limit")).toBe(String(limit));
  const remaining = Number(res.headers.get("x-ratelimit-remaining"));
  expect(Number.isInteger(remaining)).toBe(true);
  expect(remaining).toBeGreaterThanOrEqual(0);
  expect(remaining).toBeLessThanOrEqual(limit);
  // A request that passed has consumed at least one point of the window.
  if (res.status === 200) expect(remaining).toBeLessThan(limit);
}
