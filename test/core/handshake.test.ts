// The handshake checks of spec §1.2 that are easy to get subtly wrong: an allowed origin is a
// scheme, a host and a port, and sockets still in their handshake count toward MAX_NODE_CONNECTIONS.
import { describe, expect, it } from "vitest";
import { MemoryAppStore } from "../../src/app-stores/memory.ts";
import type { App } from "../../src/core/app.ts";
import { originAllowed } from "../../src/core/handshake.ts";
import { FakeSocket, Harness, settle } from "../helpers/harness.ts";

describe("originAllowed", () => {
  it("matches an origin entry on scheme, host and port", () => {
    const allowed = ["https://a.com"];
    expect(originAllowed(allowed, "https://a.com")).toBe(true);
    expect(originAllowed(allowed, "https://a.com:443")).toBe(true);
    expect(originAllowed(allowed, "http://a.com")).toBe(false);
    expect(originAllowed(allowed, "https://a.com:8443")).toBe(false);
    expect(originAllowed(["http://localhost:3000"], "http://localhost:3001")).toBe(false);
    expect(originAllowed(["http://localhost:3000"], "http://localhost:3000")).toBe(true);
  });

  it("lets a bare host or a wildcard entry admit any scheme, and refuses what is no URL", () => {
    expect(originAllowed(["a.com"], "http://a.com")).toBe(true);
    expect(originAllowed(["a.com"], "https://a.com")).toBe(true);
    expect(originAllowed(["localhost:3000"], "http://localhost:3000")).toBe(true);
    expect(originAllowed(["*.a.com"], "https://x.a.com")).toBe(true);
    expect(originAllowed(["*.a.com"], "https://a.com.evil.io")).toBe(false);
    expect(originAllowed(["https://a.com"], "null")).toBe(false);
    expect(originAllowed(["https://a.com"], null)).toBe(false);
  });
});

/** A store whose key lookups wait until the test lets them answer: handshakes stay in flight. */
class GatedStore extends MemoryAppStore {
  private waiting: (() => void)[] = [];
  override async findByKey(key: string): Promise<App | undefined> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.findByKey(key);
  }
  release(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

describe("MAX_NODE_CONNECTIONS", () => {
  it("counts handshakes in flight: of three at once with room for two, the third is refused with 4100", async () => {
    const store = new GatedStore();
    const h = new Harness({ env: { MAX_NODE_CONNECTIONS: "2" }, apps: store });
    store.replace([h.app]);
    await h.start();
    const open = () => {
      const socket = new FakeSocket();
      socket.handle = h.server.accept({ appKey: h.app.key, protocol: "7", origin: null });
      socket.handle.open(socket);
      return socket;
    };
    const sockets = [open(), open(), open()];
    await settle();
    expect(h.server.handshakesInFlight).toBe(3);
    store.release();
    await settle();
    const established = (s: FakeSocket) => s.sent.some((f) => f.includes("pusher:connection_established"));
    expect(sockets.map(established)).toEqual([true, true, false]);
    expect(sockets[2]!.closed?.code).toBe(4100);
    expect(h.server.connectionCount).toBe(2);
    expect(h.server.handshakesInFlight).toBe(0);

    // A closed socket's room is taken by the next handshake.
    sockets[0]!.handle!.close();
    await settle();
    const next = open();
    await settle();
    store.release();
    await settle();
    expect(established(next)).toBe(true);
    await h.stop();
  });
});
