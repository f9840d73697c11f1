// Slow readers (spec §1.6 4100, MAX_SOCKET_BUFFER_KB): a client that stops reading must be closed
// with 4100 instead of growing the server's memory, while every other subscriber keeps getting
// every event. Runs on every runtime: on Bun this covers the native server.publish / ws.publish
// fan-out, which bypasses the per-socket check before each send.
//
// The slow client pauses its TCP socket, so the server's frames pile up first in the kernel
// (a few MB on loopback) and then in the server's own buffer. We publish far more than both
// hold, then let the client read again: it must find fewer events than were published, then
// pusher:error 4100 and close code 4100.
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { byEvent, rawClient, sdk } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const BUFFER_KB = 1024;
const EVENT_BYTES = 100_000;
/** 32 MB: many times the kernel's socket buffers plus BUFFER_KB. */
const EVENTS = 320;

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { MAX_SOCKET_BUFFER_KB: String(BUFFER_KB), APP_MAX_EVENT_PAYLOAD_IN_KB: "128" } });
});
afterAll(() => server?.stop());

interface Subscriber {
  ws: WebSocket;
  socketId: string;
  /** Count of channel events received (their payloads are not kept). */
  events(): number;
  /** Non-event frames (pusher:error and the like), parsed. */
  others: { event: string; data?: unknown }[];
  closed: Promise<{ code: number; reason: string }>;
  pause(): void;
  resume(): void;
  /** Resolves once `n` channel events have arrived. */
  received(n: number): Promise<void>;
}

/** A subscriber that counts events instead of storing them (tens of MB flow through it). */
async function subscriber(channel: string): Promise<Subscriber> {
  const ws = new WebSocket(`ws://${server.host}:${server.port}/app/${server.key}?protocol=7`);
  ws.on("error", () => {});
  let count = 0;
  const others: { event: string; data?: unknown }[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let onFrame: (frame: { event: string; data?: unknown }) => void = () => {};
  ws.on("message", (raw) => {
    const text = raw.toString();
    if (text.startsWith('{"event":"big"')) {
      count++;
      for (const w of waiters.filter((w) => count >= w.n)) w.resolve();
      return;
    }
    const frame = JSON.parse(text);
    others.push(frame);
    onFrame(frame);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const frame = (event: string) =>
    new Promise<{ event: string; data?: unknown }>((resolve) => {
      const found = others.find((f) => f.event === event);
      if (found) return resolve(found);
      onFrame = (f) => f.event === event && resolve(f);
    });
  const established = await frame("pusher:connection_established");
  ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel } }));
  await frame("pusher_internal:subscription_succeeded");
  const socket = (ws as unknown as { _socket: Socket })._socket;
  return {
    ws,
    socketId: JSON.parse(established.data as string).socket_id,
    events: () => count,
    others,
    closed,
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    received: (n) => new Promise<void>((resolve) => (count >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

/**
 * Publishes EVENTS big events, keeping at most PACE of them ahead of the readers that keep reading.
 * On one node the fan-out happens inside each trigger request, so the readers (in this process)
 * keep pace by themselves; behind a cluster delivery is decoupled from the publisher, and an
 * unpaced publisher in the same process would outrun them until they too were, rightly, cut off.
 */
const PACE = 8;
async function publishMany(channel: string, readers: Subscriber[], params: { socket_id?: string } = {}): Promise<void> {
  const pusher = sdk(server);
  const data = "x".repeat(EVENT_BYTES);
  for (let i = 0; i < EVENTS; i++) {
    const res = await pusher.trigger(channel, "big", data, params);
    expect(res.status).toBe(200);
    if (i >= PACE) await Promise.all(readers.map((r) => r.received(i + 1 - PACE)));
  }
}

async function expectClosedAsSlowReader(slow: Subscriber): Promise<void> {
  slow.resume();
  const closed = await slow.closed;
  expect(closed.code).toBe(4100);
  // It was cut off well before the end, and told why.
  expect(slow.events()).toBeLessThan(EVENTS);
  const error = slow.others.find((f) => f.event === "pusher:error");
  expect(error?.data).toMatchObject({ code: 4100 });
}

async function expectStillServing(): Promise<void> {
  const raw = await rawClient(server);
  raw.send({ event: "pusher:ping", data: {} });
  await raw.next(byEvent("pusher:pong"));
  raw.close();
}

describe("backpressure", () => {
  it("closes a subscriber that stops reading with 4100 and keeps delivering to the others", async () => {
    const channel = "bp-broadcast";
    // Readers on both sides of the slow one, in subscription order.
    const before = await subscriber(channel);
    const slow = await subscriber(channel);
    const after = await subscriber(channel);
    slow.pause();
    await publishMany(channel, [before, after]);
    await Promise.all([before.received(EVENTS), after.received(EVENTS)]);
    await expectClosedAsSlowReader(slow);
    expect(before.ws.readyState).toBe(WebSocket.OPEN);
    expect(after.ws.readyState).toBe(WebSocket.OPEN);
    await expectStillServing();
    before.ws.close();
    after.ws.close();
  });

  it("does the same when the publish excludes a socket (socket_id)", async () => {
    const channel = "bp-except";
    const reader = await subscriber(channel);
    const slow = await subscriber(channel);
    const excluded = await subscriber(channel);
    slow.pause();
    await publishMany(channel, [reader], { socket_id: excluded.socketId });
    await reader.received(EVENTS);
    await expectClosedAsSlowReader(slow);
    expect(excluded.events()).toBe(0);
    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    expect(excluded.ws.readyState).toBe(WebSocket.OPEN);
    await expectStillServing();
    reader.ws.close();
    excluded.ws.close();
  });
});
