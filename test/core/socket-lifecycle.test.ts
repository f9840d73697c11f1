// The sockets of a node through the in-process harness (test/helpers/harness.ts): handshake
// outcomes and failure paths, liveness and the per-socket backlog, with time driven by hand.
import { describe, expect, it } from "vitest";
import type { AppStore } from "../../src/core/app-store.ts";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { CloseCode } from "../../src/core/messages.ts";
import { Harness, settle } from "../helpers/harness.ts";

describe("handshake", () => {
  it("establishes a connection and tells the event stream", async () => {
    const h = await new Harness().start();
    const client = await h.connect();
    expect(client.socketId).toMatch(/^\d+\.\d+$/);
    expect(h.eventsOf("connection_opened")).toEqual([expect.objectContaining({ appId: "app-id", socketId: client.socketId })]);
    await h.stop();
  });

  it("refuses an unknown key with 4001 and reports the refusal", async () => {
    const h = await new Harness().start();
    const client = await h.connect("nope");
    expect(client.socket.closed?.code).toBe(CloseCode.AppNotFound);
    expect(client.events("pusher:error")[0]?.data).toEqual({ code: 4001, message: "Application does not exist" });
    expect(h.eventsOf("connection_refused")).toEqual([expect.objectContaining({ appId: "", appKey: "nope", code: 4001 })]);
    await h.stop();
  });

  const failingStore = (lookup: () => Promise<undefined>): AppStore => ({
    findByKey: lookup, findById: lookup, all: async () => [],
  });

  it("ends a handshake whose app store fails with 4203 after the retry floor, logged at warn", async () => {
    const h = await new Harness({ apps: failingStore(() => Promise.reject(new Error("connection refused"))) }).start();
    const client = await h.connect();
    expect(client.socket.closed).toBeUndefined(); // held a moment so clients do not retry in a tight loop
    await h.timers.advance(1000);
    expect(client.socket.closed?.code).toBe(CloseCode.AppStoreUnavailable);
    expect(client.events("pusher:error")[0]?.data.code).toBe(4203);
    expect(h.logs.some((l) => l.level === "warn" && l.message.includes("connection refused"))).toBe(true);
    await h.stop();
  });

  it("ends a handshake whose app store never answers within the lookup timeout", async () => {
    const h = await new Harness({ apps: failingStore(() => new Promise(() => {})) }).start();
    const client = await h.connect();
    await h.timers.advance(4999);
    expect(client.socket.closed).toBeUndefined();
    await h.timers.advance(1);
    expect(client.socket.closed?.code).toBe(CloseCode.AppStoreUnavailable);
    await h.stop();
  });

  it("ends a handshake whose adapter fails with 4200 instead of leaving it opening", async () => {
    const adapter = new LocalAdapter();
    adapter.addConnection = () => Promise.reject(new Error("bus down"));
    const h = await new Harness({ adapter }).start();
    const client = await h.connect();
    expect(client.socket.closed?.code).toBe(CloseCode.Reconnect);
    expect(h.logs.some((l) => l.level === "error" && l.message === "handshake failed")).toBe(true);
    await h.stop();
  });
});

describe("liveness", () => {
  it("pings an idle socket after the activity timeout and closes it with 4201 without a pong", async () => {
    const h = await new Harness({ env: { ACTIVITY_TIMEOUT: "10", PONG_TIMEOUT: "5" } }).start();
    const c = await h.connect();
    await h.timers.advance(10_000);
    expect(c.events("pusher:ping")).toHaveLength(1);
    await h.timers.advance(5_000);
    expect(c.socket.closed?.code).toBe(CloseCode.PongNotReceived);
    await h.stop();
  });

  it("keeps a socket that answers the ping", async () => {
    const h = await new Harness({ env: { ACTIVITY_TIMEOUT: "10", PONG_TIMEOUT: "5" } }).start();
    const c = await h.connect();
    await h.timers.advance(10_000);
    c.send({ event: "pusher:pong", data: {} });
    await h.timers.advance(5_000);
    expect(c.socket.closed).toBeUndefined();
    await h.stop();
  });
});

describe("per-socket backlog", () => {
  it("closes a socket with 4100 when more bytes of frames wait than the bound", async () => {
    const adapter = new LocalAdapter();
    adapter.join = () => new Promise(() => {});
    const h = await new Harness({ adapter, env: { MAX_INBOUND_BACKLOG_KB: "4" } }).start();
    const c = await h.connect();
    for (let i = 0; i < 200; i++) c.send({ event: "pusher:subscribe", data: { channel: `ch-${i}` } });
    await settle();
    expect(c.socket.closed?.code).toBe(CloseCode.OverCapacity);
    expect(c.events("pusher:error").at(-1)?.data.message).toBe("Too many messages waiting to be processed");
    await h.stop();
  });

  it("serves a burst of 5000 subscribes on one socket, acknowledged in order", async () => {
    const h = await new Harness().start();
    const c = await h.connect();
    for (let i = 0; i < 5000; i++) c.send({ event: "pusher:subscribe", data: { channel: `burst-${i}` } });
    c.send({ event: "pusher:ping", data: {} });
    for (let i = 0; i < 100 && c.socket.sent.length < 5002; i++) await new Promise((r) => setImmediate(r));
    expect(c.socket.closed).toBeUndefined();
    const acks = c.events("pusher_internal:subscription_succeeded").map((f) => f.channel);
    expect(acks).toEqual(Array.from({ length: 5000 }, (_, i) => `burst-${i}`));
    expect(c.frames.at(-1)?.event).toBe("pusher:pong");
    await h.stop();
  });

  it("lets subscribes to different channels overlap their round trips, answering in arrival order", async () => {
    const adapter = new LocalAdapter();
    const join = adapter.join.bind(adapter);
    const pending: (() => void)[] = [];
    let inFlight = 0;
    let most = 0;
    adapter.join = (...args) => {
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise((resolve) => pending.push(() => {
        inFlight--;
        resolve(join(...args));
      }));
    };
    const h = await new Harness({ adapter }).start();
    const c = await h.connect();
    for (const ch of ["a", "b", "c", "a"]) c.send({ event: "pusher:subscribe", data: { channel: ch } });
    c.send({ event: "pusher:ping", data: {} });
    await settle();
    expect(most).toBe(3); // a, b and c at once; the second "a" waits for the first
    // The round trips finish in reverse order; the answers still follow the frames.
    while (pending.length > 0) {
      pending.pop()!();
      await settle();
    }
    const answers = c.frames.slice(1).map((f) => `${f.event.replace(/^pusher(_internal)?:/, "")}${f.channel ? ` ${f.channel}` : ""}`);
    expect(answers).toEqual([
      "subscription_succeeded a", "subscription_succeeded b", "subscription_succeeded c", "subscription_succeeded a", "pong",
    ]);
    await h.stop();
  });

  it("processes frames strictly in order across async steps", async () => {
    const h = await new Harness().start();
    const c = await h.connect();
    await c.subscribe("private-a");
    c.send({ event: "pusher:subscribe", data: { channel: "b" } });
    c.send({ event: "pusher:ping", data: {} });
    await settle();
    const order = c.frames.slice(1).map((f) => `${f.event}${f.channel ? ` ${f.channel}` : ""}`);
    expect(order).toEqual([
      "pusher_internal:subscription_succeeded private-a", "pusher_internal:subscription_succeeded b", "pusher:pong",
    ]);
    await h.stop();
  });
});
