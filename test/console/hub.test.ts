// The console's cluster relay in-process (harness: manual clock, local adapter with its broadcasts
// recorded): silence on the bus while no one watches, count answers and bounded, batched event
// forwarding while another node watches, and a local browser fed from other nodes' messages.
import { beforeEach, describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import type { BroadcastOptions, ClusterMessage } from "../../src/core/adapter.ts";
import { ConsoleHub } from "../../src/console/hub.ts";
import { consoleFeature, consoleMessage, type ConsoleMessage } from "../../src/console/messages.ts";
import { ConsoleStats } from "../../src/console/stats.ts";
import { Revocations } from "../../src/console/revocations.ts";
import { Harness } from "../helpers/harness.ts";

class RecordingAdapter extends LocalAdapter {
  readonly console: ConsoleMessage[] = [];
  override broadcast(message: ClusterMessage, options?: BroadcastOptions): void {
    if (message.type === "feature") this.console.push(consoleMessage(message)!);
    super.broadcast(message);
  }
}

let h: Harness;
let adapter: RecordingAdapter;
let hub: ConsoleHub;
let stats: ConsoleStats;
let revocations: Revocations;
beforeEach(async () => {
  adapter = new RecordingAdapter(() => h.timers.now());
  h = new Harness({ adapter });
  stats = new ConsoleStats();
  revocations = new Revocations(() => h.timers.now());
  hub = new ConsoleHub(h.server, { bufferEvents: 100, eventsPerSecond: 3 }, stats, revocations);
  await h.start();
});

const watch = (appId = "app-id") => h.server.cluster.receive(consoleFeature({ appId, node: "other", op: "watch" }));
const sent = (op: ConsoleMessage["op"]) => adapter.console.filter((m) => m.node === hub.node && m.op === op);

describe("ConsoleHub", () => {
  it("sends nothing on the bus while no console watches", async () => {
    await h.connect();
    await h.timers.advance(5000);
    expect(adapter.console).toEqual([]);
  });

  it("answers another node's watch with its count and forwards that app's events within a budget", async () => {
    await h.connect();
    watch();
    expect(sent("count")).toEqual([{ appId: "app-id", node: hub.node, op: "count", connections: 1 }]);
    for (let i = 0; i < 5; i++) await h.connect();
    await h.timers.advance(150);
    const batches = sent("events");
    expect(batches).toHaveLength(1);
    expect(batches[0]!.events!.map((e) => e.kind)).toEqual(["connection_opened", "connection_opened", "connection_opened"]);
    expect(batches[0]!.dropped).toBe(2);
    expect(stats.forwardsDropped).toBe(2);
  });

  it("stops forwarding once the watch is not renewed", async () => {
    watch();
    await h.timers.advance(7000);
    await h.connect();
    await h.timers.advance(500);
    expect(sent("events")).toEqual([]);
  });

  it("feeds a local browser from every node, ignoring its own echo, and totals the counts", async () => {
    const viewer = hub.join("app-id");
    expect(sent("watch")).toHaveLength(1);
    await h.connect();
    h.server.cluster.receive(consoleFeature({ appId: "app-id", node: "other", op: "count", connections: 4 }));
    h.server.cluster.receive(consoleFeature({
      appId: "app-id", node: "other", op: "events", dropped: 7,
      events: [{ kind: "member_added", appId: "app-id", channel: "presence-x", userId: "u1", time: 1 }],
    }));
    h.server.cluster.receive(consoleFeature({ appId: "other-app", node: "other", op: "events", events: [{ kind: "channel_vacated", appId: "other-app", channel: "c", time: 1 }] }));
    h.server.cluster.receive(consoleFeature({ appId: "app-id", node: hub.node, op: "count", connections: 100 }));
    await h.timers.advance(1000);
    const batch = await viewer.take();
    expect(batch!.events.map((e) => [e.kind, e.node])).toEqual([["connection_opened", hub.node], ["member_added", "other"]]);
    expect(batch!.clusterDropped).toBe(7);
    expect(batch!.state).toMatchObject({ connections: 5, nodes: 2 });
    hub.leave(viewer);
    expect(stats.viewers).toBe(0);
  });

  it("tells every node about a sign-out, and refuses the session there until it would have expired", async () => {
    hub.revoke("session-1", h.timers.now() + 60_000);
    expect(sent("revoke")).toEqual([expect.objectContaining({ session: "session-1", until: h.timers.now() + 60_000 })]);
    expect(revocations.has("session-1")).toBe(true);
    // Another node's sign-out, heard over the bus.
    h.server.cluster.receive(consoleFeature({ appId: "", node: "other", op: "revoke", session: "session-2", until: h.timers.now() + 1000 }));
    expect(revocations.has("session-2")).toBe(true);
    await h.timers.advance(1000);
    expect(revocations.has("session-2")).toBe(false);
    expect(revocations.has("session-1")).toBe(true);
  });
});

describe("ConsoleHub and the app's bus", () => {
  class ListeningAdapter extends RecordingAdapter {
    readonly holds = new Map<string, number>();
    refuse = false;
    async listen(appId: string): Promise<void> {
      if (this.refuse) throw new Error("bus unavailable");
      this.holds.set(appId, (this.holds.get(appId) ?? 0) + 1);
    }
    unlisten(appId: string): void {
      const n = (this.holds.get(appId) ?? 0) - 1;
      if (n < 0) throw new Error(`unlisten(${appId}) without a hold`);
      if (n === 0) this.holds.delete(appId);
      else this.holds.set(appId, n);
    }
  }

  it("holds the bus of a watched app once while browsers here watch it, and retries a refused hold each tick", async () => {
    const listening = new ListeningAdapter(() => h.timers.now());
    h = new Harness({ adapter: listening });
    const relay = new ConsoleHub(h.server, { bufferEvents: 100, eventsPerSecond: 3 }, new ConsoleStats(), new Revocations(() => h.timers.now()));
    await h.start();
    listening.refuse = true;
    const first = relay.join("app-id");
    await h.timers.advance(0);
    expect(listening.holds.size).toBe(0);
    listening.refuse = false;
    await h.timers.advance(1000);
    const second = relay.join("app-id");
    await h.timers.advance(1000);
    expect(listening.holds).toEqual(new Map([["app-id", 1]]));
    relay.leave(first);
    await h.timers.advance(0);
    expect(listening.holds.size).toBe(1);
    relay.leave(second);
    await h.timers.advance(0);
    expect(listening.holds.size).toBe(0);
    relay.stop();
  });
});
