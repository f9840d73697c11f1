// Snapshot and restore of a connection (src/core/snapshot.ts): what a host that loses its memory
// while sockets stay open (a hibernated Durable Object) rebuilds a node from, and the host-driven
// sweep it runs from an alarm instead of an interval.
import { describe, expect, it } from "vitest";
import { FakeClient, FakeSocket, Harness, settle } from "../helpers/harness.ts";
import type { ConnectionSnapshot } from "../../src/core/snapshot.ts";

const PRESENCE = "presence-room";
const CACHE = "cache-news";

/** A node that lost its memory: a fresh server with the same settings, its sockets restored from snapshots. */
async function rebuilt(snapshots: ConnectionSnapshot[], env?: Record<string, string>) {
  const node = await new Harness({ env }).start();
  const entries = snapshots.map((snapshot) => ({ socket: new FakeSocket(), snapshot }));
  const handles = await node.server.restore(entries);
  const clients = entries.map(({ socket, snapshot }, i) => {
    expect(handles[i]).toBeDefined();
    socket.handle = handles[i];
    const client = new FakeClient(socket, handles[i]!, node.app);
    client.socketId = snapshot.id;
    return client;
  });
  await settle();
  return { node, clients };
}

describe("restoring connections from snapshots", () => {
  it("brings back channels, presence members and the signed-in user without announcing anything", async () => {
    const h = await new Harness().start();
    const alice = await h.connect();
    const bob = await h.connect();
    await alice.subscribe(PRESENCE, { user_id: "alice" });
    await bob.subscribe(PRESENCE, { user_id: "bob" });
    await alice.subscribe(CACHE);
    const snapshots = [h.server.snapshot(alice.socketId)!, h.server.snapshot(bob.socketId)!];
    expect(JSON.parse(JSON.stringify(snapshots))).toEqual(snapshots);

    const { node, clients } = await rebuilt(snapshots);
    const [alice2, bob2] = clients as [FakeClient, FakeClient];
    // Quiet: no join was announced again, nobody was sent anything.
    expect(node.events.filter((e) => ["subscribed", "member_added", "channel_occupied", "connection_opened"].includes(e.kind))).toEqual([]);
    expect(alice2.socket.sent).toEqual([]);
    const members = await node.server.adapter.members(node.app.id, PRESENCE);
    expect([...members.members.keys()]).toEqual(["alice", "bob"]);
    expect((await node.server.adapter.channelStats(node.app.id, CACHE)).subscriptionCount).toBe(1);

    // A publish reaches the restored sockets, and a client event from one reaches the other.
    await node.server.publish(node.app, PRESENCE, "greeting", '{"hi":1}');
    expect(alice2.events("greeting", PRESENCE)).toHaveLength(1);
    expect(bob2.events("greeting", PRESENCE)).toHaveLength(1);

    // Alice's view of the members is back: carol joining is told once, bob leaving is told once.
    const carol = await node.connect();
    await carol.subscribe(PRESENCE, { user_id: "carol" });
    bob2.close();
    await settle();
    expect(alice2.events("pusher_internal:member_added", PRESENCE).map((f) => f.data.user_id)).toEqual(["carol"]);
    expect(alice2.events("pusher_internal:member_removed", PRESENCE).map((f) => f.data.user_id)).toEqual(["bob"]);
    expect(node.eventsOf("member_removed").map((e) => e.userId)).toEqual(["bob"]);
  });

  it("announces the leaves of a socket that vanished while the node was gone once it is restored closed and closed", async () => {
    const h = await new Harness().start();
    const alice = await h.connect();
    await alice.subscribe(PRESENCE, { user_id: "alice" });
    const snapshot = h.server.snapshot(alice.socketId)!;

    const { node, clients } = await rebuilt([snapshot]);
    clients[0]!.close();
    await settle();
    expect(node.eventsOf("member_removed").map((e) => [e.channel, e.userId])).toEqual([[PRESENCE, "alice"]]);
    expect(node.eventsOf("channel_vacated").map((e) => e.channel)).toEqual([PRESENCE]);
    expect(node.eventsOf("connection_closed").map((e) => e.socketId)).toEqual([snapshot.id]);
  });

  it("refuses a snapshot of an app that no longer exists", async () => {
    const h = await new Harness().start();
    const alice = await h.connect();
    const snapshot = { ...h.server.snapshot(alice.socketId)!, appId: "gone" };
    expect(await h.server.restore([{ socket: new FakeSocket(), snapshot }])).toEqual([undefined]);
    expect(h.server.snapshot("no-such-socket")).toBeUndefined();
  });
});

describe("the host-driven sweep", () => {
  it("runs no interval of its own and says when the next deadline falls", async () => {
    const h = await new Harness({ env: { ACTIVITY_TIMEOUT: "10", PONG_TIMEOUT: "5" }, hostSweeps: true }).start();
    expect(h.server.sweep()).toBeUndefined();
    const client = await h.connect();
    const opened = h.timers.now();
    expect(h.server.sweep()).toBe(opened + 10_000);
    await h.timers.advance(10_000);
    expect(client.events("pusher:ping")).toHaveLength(0);
    expect(h.server.sweep()).toBe(opened + 15_000);
    expect(client.events("pusher:ping")).toHaveLength(1);
  });

  it("counts a ping the runtime answered by itself as the client's activity", async () => {
    const h = await new Harness({ env: { ACTIVITY_TIMEOUT: "10", PONG_TIMEOUT: "5" }, hostSweeps: true }).start();
    const client = await h.connect();
    let answered = 0;
    client.socket.answeredAt = () => answered;
    h.timers.pause(8_000);
    answered = h.timers.now();
    h.timers.pause(4_000);
    // Silent for 12 s as far as the core saw, but the runtime answered a pusher:ping 4 s ago.
    expect(h.server.sweep()).toBe(answered + 10_000);
    expect(client.events("pusher:ping")).toHaveLength(0);
  });
});
