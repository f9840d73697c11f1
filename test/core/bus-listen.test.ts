// A node hears an app's bus only while it serves the app's sockets (issue #22): the handshake
// holds the app's bus before the socket is told it is connected, a refusal gives the hold back,
// and the socket's close releases it. An adapter whose bus cannot be joined refuses the handshake
// with 4200 (reconnect) instead of connecting a socket that publishes from other nodes would miss.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { ClusterUnavailableError } from "../../src/core/adapter.ts";
import { Harness, settle } from "../helpers/harness.ts";

class ListeningAdapter extends LocalAdapter {
  readonly holds = new Map<string, number>();
  mode: "confirm" | "wait" | "refuse" = "confirm";
  private waiting: (() => void)[] = [];

  async listen(appId: string): Promise<void> {
    if (this.mode === "refuse") throw new ClusterUnavailableError("the cluster backend (test) failed; subscribing not done");
    if (this.mode === "wait") await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.holds.set(appId, (this.holds.get(appId) ?? 0) + 1);
  }

  unlisten(appId: string): void {
    const n = (this.holds.get(appId) ?? 0) - 1;
    if (n < 0) throw new Error(`unlisten(${appId}) without a hold`);
    if (n === 0) this.holds.delete(appId);
    else this.holds.set(appId, n);
  }

  confirm(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

describe("the app's bus around a socket's life", () => {
  it("connects a socket only once its app's bus is held, and releases it when the socket closes", async () => {
    const adapter = new ListeningAdapter();
    const h = await new Harness({ adapter }).start();
    adapter.mode = "wait";
    const pending = h.connect();
    await settle();
    await h.timers.advance(5000);
    const client = await pending;
    expect(client.events("pusher:connection_established")).toEqual([]);
    adapter.mode = "confirm";
    adapter.confirm();
    await settle();
    expect(client.events("pusher:connection_established")).toHaveLength(1);
    expect(adapter.holds.get(h.app.id)).toBe(1);

    const second = await h.connect();
    expect(adapter.holds.get(h.app.id)).toBe(2);
    client.close();
    second.close();
    await settle();
    expect(adapter.holds.has(h.app.id)).toBe(false);
  });

  it("refuses the handshake with 4200 when the bus cannot be joined, after a pause, holding nothing", async () => {
    const adapter = new ListeningAdapter();
    const h = await new Harness({ adapter }).start();
    adapter.mode = "refuse";
    const client = await h.connect();
    // Clients reconnect at once on 42xx: the refusal waits a moment so an outage is no tight loop.
    expect(client.socket.closed).toBeUndefined();
    await h.timers.advance(1000);
    expect(client.socket.closed).toEqual({ code: 4200, reason: "Cluster backend unavailable, reconnect" });
    expect(client.events("pusher:connection_established")).toEqual([]);
    expect(h.eventsOf("connection_refused")).toEqual([expect.objectContaining({ appId: h.app.id, code: 4200 })]);
    expect(h.server.registry.appSocketCount(h.app.id)).toBe(0);
    expect(adapter.holds.size).toBe(0);
    adapter.mode = "confirm";
    expect((await h.connect()).events("pusher:connection_established")).toHaveLength(1);
  });

  it("gives the hold back when the quota refuses the socket", async () => {
    const adapter = new ListeningAdapter();
    const h = await new Harness({ adapter, env: { APP_MAX_CONNECTIONS: "1" } }).start();
    await h.connect();
    const refused = await h.connect();
    expect(refused.socket.closed?.code).toBe(4004);
    expect(adapter.holds.get(h.app.id)).toBe(1);
  });
});
