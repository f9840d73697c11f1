// runtimes/node-wire.ts: the frame encoder, and the check that guards its use of ws's internals
// (review note: a ws upgrade that changes `_socket`/`_receiver` must fall back, not break).
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { hasWsInternals, quietEnds, rawSocketOf, resetInternalsCheck, wireOf } from "../../runtimes/node-wire.ts";

/** A connected server-side ws socket of the pinned ws version, and its client. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await once(wss, "listening");
  const accepted = once(wss, "connection");
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const [server] = (await accepted) as [WebSocket];
  await once(client, "open");
  return {
    server,
    client,
    close: async () => {
      client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

afterEach(() => resetInternalsCheck());

describe("ws internals check", () => {
  it("recognises the pinned ws version's socket and writes frames straight to its TCP socket", async () => {
    const p = await pair();
    try {
      expect(hasWsInternals(p.server)).toBe(true);
      const warnings: string[] = [];
      quietEnds(p.server, { warn: (m) => warnings.push(m) });
      expect(warnings).toEqual([]);
      const sock = rawSocketOf(p.server);
      expect(sock).toBeDefined();
      const got = once(p.client, "message");
      sock!.write(wireOf('{"event":"x"}'));
      expect(String((await got)[0])).toBe('{"event":"x"}');
    } finally {
      await p.close();
    }
  });

  it("falls back to ws's public API, with one warning, when the internals are not there", () => {
    const changed = { _socket: { write() {} }, _receiver: undefined } as unknown as WebSocket;
    expect(hasWsInternals(changed)).toBe(false);
    const warnings: string[] = [];
    quietEnds(changed, { warn: (m) => warnings.push(m) });
    quietEnds(changed, { warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/public API/);
    // Not patched, and no raw socket handed out: NodeSocket.send then uses ws.send.
    expect(rawSocketOf(changed)).toBeUndefined();
    expect((changed as unknown as { _socket: { end?: unknown } })._socket.end).toBeUndefined();
  });
});

describe("wireOf", () => {
  it("encodes unmasked text frames with the three length forms (RFC 6455 §5.2)", () => {
    expect([...wireOf("hi")]).toEqual([0x81, 2, 0x68, 0x69]);
    const mid = wireOf("x".repeat(300));
    expect([mid[0], mid[1], mid.readUInt16BE(2), mid.length]).toEqual([0x81, 126, 300, 304]);
    const big = wireOf("é".repeat(40_000));
    expect([big[0], big[1], big.readUInt32BE(6), big.length]).toEqual([0x81, 127, 80_000, 80_010]);
  });
});
