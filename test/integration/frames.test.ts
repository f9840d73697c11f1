// Inbound frame handling (spec §1.4, §1.9, checklist 10, 14, 15): ping/pong, malformed and
// unknown frames (non-fatal: pusher:error code null, socket kept), the size limit and binary frames.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, rawClient, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

const PONG = { event: "pusher:pong", data: "{}" };

/**
 * Sends a ping and returns every frame that arrived before its pong. Frames are handled in
 * order, so this is exactly what the server answered to the frames sent before the ping.
 */
async function framesBeforePong(raw: RawClient): Promise<unknown[]> {
  raw.send({ event: "pusher:ping", data: {} });
  expect(await raw.next(byEvent("pusher:pong"))).toEqual(PONG);
  return raw.frames.splice(0);
}

describe("pusher:ping", () => {
  it('answers {"event":"pusher:ping","data":{}} with {"event":"pusher:pong","data":"{}"}', async () => {
    const raw = await rawClient(server);
    raw.send({ event: "pusher:ping", data: {} });
    expect(await raw.next()).toEqual(PONG);
    raw.close();
  });

  it("answers a ping without data, and with data as a JSON string", async () => {
    const raw = await rawClient(server);
    raw.send('{"event":"pusher:ping"}');
    expect(await raw.next()).toEqual(PONG);
    raw.send({ event: "pusher:ping", data: "{}" });
    expect(await raw.next()).toEqual(PONG);
    raw.close();
  });

  it("does not answer pusher:pong (liveness only)", async () => {
    const raw = await rawClient(server);
    raw.send({ event: "pusher:pong", data: {} });
    expect(await framesBeforePong(raw)).toEqual([]);
    raw.close();
  });
});

describe("malformed frames: pusher:error with code null, socket stays open", () => {
  const invalid: [string, string][] = [
    ["invalid JSON", "{not json"],
    ["missing event", '{"data":{}}'],
    ["non-string event", '{"event":42,"data":{}}'],
    ["a JSON array", '[{"event":"pusher:ping"}]'],
    ["a JSON string", '"pusher:ping"'],
    ["a JSON number", "42"],
    ["JSON null", "null"],
  ];
  for (const [what, text] of invalid) {
    it(what, async () => {
      const raw = await rawClient(server);
      raw.send(text);
      expect(await framesBeforePong(raw)).toEqual([
        { event: "pusher:error", data: { code: null, message: "Invalid message format" } },
      ]);
      expect(raw.ws.readyState).toBe(raw.ws.OPEN);
      raw.close();
    });
  }
});

describe("unknown events: pusher:error with code null, socket stays open", () => {
  for (const event of ["hello", "pusher:foo", "pusher_internal:subscription_succeeded", "pusher:connection_established"]) {
    it(event, async () => {
      const raw = await rawClient(server);
      raw.send({ event, data: {} });
      expect(await framesBeforePong(raw)).toEqual([
        { event: "pusher:error", data: { code: null, message: `Unsupported event: ${event}` } },
      ]);
      raw.close();
    });
  }
});

describe("frame size limit (MAX_WEB_SOCKET_MESSAGE_KB, default 64)", () => {
  /** A valid ping frame padded to exactly `bytes` bytes. */
  const pingOfSize = (bytes: number) => {
    const shell = '{"event":"pusher:ping","data":{"pad":""}}';
    return shell.replace('"pad":""', `"pad":"${"x".repeat(bytes - shell.length)}"`);
  };

  it("processes a frame of exactly the limit", async () => {
    const raw = await rawClient(server);
    const frame = pingOfSize(64 * 1024);
    expect(Buffer.byteLength(frame)).toBe(65536);
    raw.send(frame);
    expect(await raw.next()).toEqual(PONG);
    raw.close();
  });

  it("closes with 1009 on a frame one byte over the limit", async () => {
    const raw = await rawClient(server);
    raw.send(pingOfSize(64 * 1024 + 1));
    const closed = await raw.closed;
    expect(closed.code).toBe(1009);
    expect(raw.frames.filter((f) => f.event === "pusher:pong")).toEqual([]);
  });
});

describe("multi-byte frames", () => {
  it("measures the limit in UTF-8 bytes, not characters", async () => {
    const raw = await rawClient(server);
    // About 33 000 characters but over 65 536 bytes.
    const frame = JSON.stringify({ event: "pusher:ping", data: { pad: "\u00e9".repeat(33_000) } });
    expect(frame.length).toBeLessThan(65536);
    expect(Buffer.byteLength(frame)).toBeGreaterThan(65536);
    raw.send(frame);
    expect((await raw.closed).code).toBe(1009);
  });
});

describe("frames sent before the handshake finishes", () => {
  it("are answered after connection_established, never before it", async () => {
    const raw = await rawClient(server, undefined, { established: false });
    raw.ws.once("open", () => raw.send({ event: "pusher:ping", data: {} }));
    expect((await raw.next()).event).toBe("pusher:connection_established");
    expect(await raw.next()).toEqual(PONG);
    raw.close();
  });

  it("are ignored on a socket whose handshake is refused", async () => {
    const raw = await rawClient(server, "/app/no-such-key?protocol=7", { established: false });
    raw.ws.once("open", () => raw.send({ event: "pusher:ping", data: {} }));
    expect((await raw.closed).code).toBe(4001);
    expect(raw.frames.map((f) => f.event)).toEqual(["pusher:error"]);
  });
});

describe("binary frames", () => {
  it("decodes a binary frame holding JSON like a text frame", async () => {
    const raw = await rawClient(server);
    raw.ws.send(Buffer.from(JSON.stringify({ event: "pusher:ping", data: {} })), { binary: true });
    expect(await raw.next()).toEqual(PONG);
    raw.ws.send(Buffer.from(JSON.stringify({ event: "pusher:subscribe", data: { channel: "binary-channel", auth: "" } })), { binary: true });
    expect(await raw.next()).toEqual({ event: "pusher_internal:subscription_succeeded", channel: "binary-channel", data: "{}" });
    raw.close();
  });

  it("answers an invalid binary frame with the same non-fatal error", async () => {
    const raw = await rawClient(server);
    raw.ws.send(Buffer.from("not json"), { binary: true });
    expect(await framesBeforePong(raw)).toEqual([
      { event: "pusher:error", data: { code: null, message: "Invalid message format" } },
    ]);
    raw.close();
  });
});
