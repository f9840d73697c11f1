// Server-side liveness (spec §1.5, checklist 11-13) with ACTIVITY_TIMEOUT=1 PONG_TIMEOUT=1.
// Any inbound frame — data frame or WebSocket pong — counts as life. The ws client answers
// control pings automatically, so the "dead peer" case needs `autoPong: false`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { byEvent, dataOf, rawClient, type Frame } from "../helpers/clients.ts";
import { runtimeFeatures, startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { ACTIVITY_TIMEOUT: "1", PONG_TIMEOUT: "1" } });
});
afterAll(() => server?.stop());

const PING = { event: "pusher:ping", data: "{}" };

/** A ws client that does NOT answer control pings, counting what the server sends. */
async function silentClient(answerPusherPing: boolean) {
  const ws = new WebSocket(`ws://${server.host}:${server.port}/app/${server.key}?protocol=7`, { autoPong: false });
  ws.on("error", () => {});
  const frames: Frame[] = [];
  let controlPings = 0;
  let pusherPings = 0;
  const listeners = new Set<() => void>();
  ws.on("ping", () => {
    controlPings++;
    listeners.forEach((l) => l());
  });
  ws.on("message", (raw) => {
    const frame = JSON.parse(raw.toString()) as Frame;
    frames.push(frame);
    if (frame.event === "pusher:ping") {
      expect(frame).toEqual(PING);
      pusherPings++;
      if (answerPusherPing) ws.send(JSON.stringify({ event: "pusher:pong", data: {} }));
    }
    listeners.forEach((l) => l());
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const until = (check: () => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => reject(new Error(`condition not met; frames: ${JSON.stringify(frames)}`)), timeoutMs);
      const listener = () => {
        if (!check()) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve();
      };
      listeners.add(listener);
    });
  await until(() => frames.length > 0);
  expect(frames[0]!.event).toBe("pusher:connection_established");
  return { ws, frames, closed, until, counts: () => ({ controlPings, pusherPings }) };
}

describe.concurrent("liveness", () => {
  it("announces the configured activity_timeout (1 s)", async () => {
    const raw = await rawClient(server, undefined, { established: false });
    const established = await raw.next(byEvent("pusher:connection_established"));
    expect(dataOf(established).activity_timeout).toBe(1);
    raw.close();
  });

  // Deno cannot send WebSocket pings (runtimeFeatures.wsPing): there pusher:ping alone is covered below.
  it.runIf(runtimeFeatures.wsPing)("pings a silent client with a WS ping control frame and pusher:ping", async () => {
    const raw = await rawClient(server);
    const controlPing = new Promise<void>((resolve) => raw.ws.once("ping", () => resolve()));
    expect(await raw.next(byEvent("pusher:ping"), 5000)).toEqual(PING);
    await controlPing;
    raw.close();
  });

  it("closes with 4201 when neither a pong nor any other frame follows the ping", async () => {
    const client = await silentClient(false);
    const closed = await client.closed;
    expect(closed.code).toBe(4201);
    expect(closed.reason).toBe("Pong reply not received");
    // It was pinged (both ways) before being dropped.
    if (runtimeFeatures.wsPing) expect(client.counts().controlPings).toBeGreaterThanOrEqual(1);
    expect(client.frames.map((f) => f.event)).toContain("pusher:ping");
  });

  it("keeps a client that answers pusher:ping with pusher:pong open across several intervals", async () => {
    const client = await silentClient(true);
    // Three pings means the socket outlived the 1 s pong timeout at least twice.
    await client.until(() => client.counts().pusherPings >= 3);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    client.ws.send(JSON.stringify({ event: "pusher:ping" }));
    await client.until(() => client.frames.some((f) => f.event === "pusher:pong"));
    client.ws.close();
    expect((await client.closed).code).not.toBe(4201);
  });

  it.runIf(runtimeFeatures.wsPing)("keeps a client whose only sign of life is the automatic WS pong open across several intervals", async () => {
    const raw = await rawClient(server);
    let controlPings = 0;
    raw.ws.on("ping", () => controlPings++);
    for (let i = 0; i < 3; i++) await raw.next(byEvent("pusher:ping"), 5000);
    expect(controlPings).toBeGreaterThanOrEqual(2);
    expect(raw.ws.readyState).toBe(WebSocket.OPEN);
    raw.close();
    expect((await raw.closed).code).not.toBe(4201);
  });
});
