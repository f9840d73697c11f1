// The start-up self-check that lets runtimes/node-sockets.ts use ws's private fields: it passes with the
// installed ws, and reports (so the node falls back to ws's public API) when a ws release moved
// the TCP socket or stopped announcing a close frame the way node-sockets.ts listens for it.
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { checkWsInternals } from "../../runtimes/node-ws.ts";

type Internals = { _socket: unknown; _receiver: { emit(event: string, ...args: unknown[]): boolean } };

const serverWith = (WebSocketClass: typeof WebSocket) =>
  new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false, WebSocket: WebSocketClass });

describe("checkWsInternals", () => {
  it("passes with the installed ws", async () => {
    expect(await checkWsInternals(serverWith(WebSocket))).toBeUndefined();
  });

  it("reports a ws whose receiver announces a close frame under another event", async () => {
    class Renamed extends WebSocket {
      setSocket(...args: unknown[]): void {
        (WebSocket.prototype as unknown as { setSocket(...a: unknown[]): void }).setSocket.apply(this, args);
        const receiver = (this as unknown as Internals)._receiver;
        const emit = receiver.emit.bind(receiver);
        receiver.emit = (event, ...rest) => emit(event === "conclude" ? "close-frame" : event, ...rest);
      }
    }
    expect(await checkWsInternals(serverWith(Renamed), 200)).toMatch(/no 'conclude' from its receiver/);
  });

  it("reports a ws that keeps the TCP socket somewhere else", async () => {
    class Moved extends WebSocket {
      setSocket(...args: unknown[]): void {
        (WebSocket.prototype as unknown as { setSocket(...a: unknown[]): void }).setSocket.apply(this, args);
        (this as unknown as Internals)._socket = undefined;
      }
    }
    expect(await checkWsInternals(serverWith(Moved), 200)).toBe("_socket is not the upgraded socket");
  });
});
