// The lifecycle every cluster driver shares, driven through a fake transport and a manual clock:
// start with a deadline, up/down reporting, the bus, the local fallback, failure logging,
// resync with catch-up after an outage, and stop.
import { describe, expect, it } from "vitest";
import { RECONNECT_GRACE_MS } from "../../../src/adapters/cluster/bus-peers.ts";
import { ClusterUnavailableError } from "../../../src/core/adapter.ts";
import { settle } from "../../helpers/harness.ts";
import { message, setup, upWithPresence } from "./fake-driver.ts";

describe("cluster lifecycle", () => {
  it("starts cluster-wide once the transport is up and the first resync is done", async () => {
    const { driver, node, states, logger } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    expect(driver.reconciles).toBe(1);
    expect(states).toEqual([[true, undefined]]);
    expect(logger.lines).toContain(`info: fake adapter: connected (node ${driver.nodeId})`);
  });

  it("serves local clients when the backend is unreachable at start, and says so", async () => {
    const { driver, node, timers, states, logger } = setup();
    const started = driver.start(node);
    await timers.advance(1000);
    await started;
    expect(states).toEqual([[false, "unreachable at start"]]);
    expect(logger.lines.filter((l) => l.startsWith("warn"))).toEqual([
      "warn: fake adapter: backend unreachable at start; serving local clients only until it is reachable",
    ]);
    expect(await driver.channelStats("app", "ch", { allowLocal: true })).toEqual({ subscriptionCount: 0, userCount: 0 });
    await expect(driver.channelStats("app", "ch")).rejects.toThrow(ClusterUnavailableError);
  });

  it("broadcasts to this node at once and to the others in an envelope, only while online", async () => {
    const { driver, node, received, timers } = setup();
    const started = driver.start(node);
    await timers.advance(1000);
    await started;
    driver.broadcast(message);
    expect(received).toEqual([message]);
    expect(driver.published).toEqual([]);
    driver.events!.up();
    await settle();
    driver.broadcast(message, { remoteOnly: true });
    expect(received).toEqual([message]);
    expect(driver.published.map((p) => JSON.parse(p)).filter((e) => e.m)).toEqual([{ o: driver.nodeId, m: message }]);
    // Our own echo is dropped; another node's message is applied.
    driver.events!.message(driver.published[0]!);
    driver.events!.message(JSON.stringify({ o: "other", m: message }));
    expect(received).toEqual([message, message]);
  });

  it("answers from the backend, and from local state when the backend fails, warning once per operation", async () => {
    const { driver, node, logger } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    expect(await driver.channelStats("app", "ch")).toEqual({ subscriptionCount: 7, userCount: 0 });
    driver.storeDown = true;
    const local = { allowLocal: true };
    for (let i = 0; i < 5; i++) expect(await driver.channelStats("app", "ch", local)).toEqual({ subscriptionCount: 0, userCount: 0 });
    expect(await driver.onlineUsers("app", ["remote"], local)).toEqual(new Set());
    // This node's own members reflect none of the cluster's transitions: a socket subscribing now
    // must still be caught up on them later.
    await driver.localState.join("app", "presence-room", "s1", { userId: "u1", userInfo: null });
    expect(await driver.members("app", "presence-room", local)).toEqual({ members: new Map([["u1", null]]), seq: 0 });
    expect(logger.lines.filter((l) => l.startsWith("warn"))).toEqual([
      "warn: fake adapter: channelStats failed: store timed out; repeats are counted until the backend recovers",
      "warn: fake adapter: onlineUsers failed: store timed out; repeats are counted until the backend recovers",
      "warn: fake adapter: members failed: store timed out; repeats are counted until the backend recovers",
    ]);
  });

  it("answers a read without allowLocal from the backend or not at all while it fails", async () => {
    const { driver, node } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    driver.storeDown = true;
    await expect(driver.channelStats("app", "ch")).rejects.toThrow(/cluster backend \(fake\) failed \(store timed out\); channelStats not done/);
    await expect(driver.members("app", "presence-room")).rejects.toThrow(ClusterUnavailableError);
    await expect(driver.channels("app")).rejects.toThrow(ClusterUnavailableError);
    await expect(driver.cacheGet("app", "cache-x")).rejects.toThrow(ClusterUnavailableError);
    driver.storeDown = false;
    expect(await driver.channelStats("app", "ch")).toEqual({ subscriptionCount: 7, userCount: 0 });
  });

  it("delivers a publish someone waits for once the bus took it, and refuses it while the bus is away", async () => {
    const { driver, node, received, timers } = setup();
    const started = driver.start(node);
    await timers.advance(1000);
    await started;
    // Away: refused, and applied nowhere, so a retry reaches every node exactly once.
    await expect(driver.deliver(message)).rejects.toThrow(/cluster backend \(fake\) is unreachable; publish not done/);
    expect(received).toEqual([]);
    driver.events!.up();
    await settle();
    await driver.deliver(message);
    expect(received).toEqual([message]);
    expect(driver.published.map((p) => JSON.parse(p).m).filter(Boolean)).toEqual([message]);
    driver.publishFails = true;
    await expect(driver.deliver(message)).rejects.toThrow(/failed \(bus refused\); publish not done/);
  });

  it("after an outage, refuses publishes until the nodes that were on the bus are back on it", async () => {
    const { driver, node, timers } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    // Each node says hello on the bus when it comes up and on every tick.
    expect(driver.published.map((p) => JSON.parse(p))).toEqual([{ o: driver.nodeId }]);
    driver.events!.message(JSON.stringify({ o: "B" }));
    driver.events!.message(JSON.stringify({ o: "C", m: message }));
    await driver.deliver(message);
    driver.events!.down("socket closed");
    driver.events!.up();
    await settle();
    // B and C are still reconnecting: a publish now would never reach their sockets.
    await expect(driver.deliver(message)).rejects.toThrow(/waiting for 2 node\(s\) that were on the bus before the outage to rejoin it/);
    const sent = driver.published.length;
    driver.events!.message(JSON.stringify({ o: "B" }));
    await expect(driver.deliver(message)).rejects.toThrow(/waiting for 1 node/);
    // B's hello is answered at once, so B (which may be waiting for this node too) need not wait a tick.
    expect(driver.published.slice(sent).map((p) => JSON.parse(p))).toEqual([{ o: driver.nodeId }]);
    // C never comes back (it died meanwhile): past the node timeout and a live node's longest
    // reconnect back-off, it is not waited for.
    await timers.advance(RECONNECT_GRACE_MS - 1);
    await expect(driver.deliver(message)).rejects.toThrow(/waiting for 1 node/);
    await timers.advance(1);
    await driver.deliver(message);
  });

  it("refuses a publish the bus does not confirm within the request deadline", async () => {
    const { driver, node, timers } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    driver.publishHangs = true;
    let outcome: unknown;
    driver.deliver(message).then(() => (outcome = "delivered"), (error: unknown) => (outcome = error));
    await timers.advance(499);
    expect(outcome).toBeUndefined();
    await timers.advance(1);
    expect(outcome).toBeInstanceOf(ClusterUnavailableError);
    expect(String((outcome as Error).message)).toMatch(/publish got no answer within 500 ms/);
  });

  it("claims and settles idempotency keys in the backend, and refuses to guess while it is away", async () => {
    const { driver, node, timers } = setup();
    const started = driver.start(node);
    await timers.advance(1000);
    await started;
    await expect(driver.claimIdempotency("app", "k1", 10_000)).rejects.toThrow(ClusterUnavailableError);
    driver.events!.up();
    await settle();
    expect(await driver.claimIdempotency("app", "k1", 10_000)).toBe("claimed");
    expect(await driver.claimIdempotency("app", "k1", 10_000)).toBe("pending");
    await driver.settleIdempotency("app", "k1", false, 60_000);
    expect(await driver.claimIdempotency("app", "k1", 10_000)).toBe("claimed");
    await driver.settleIdempotency("app", "k1", true, 60_000);
    expect(await driver.claimIdempotency("app", "k1", 10_000)).toBe("done");
  });

  it("logs a failed publish at warn, naming the driver", async () => {
    const { driver, node, logger } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    driver.publishFails = true;
    driver.broadcast(message);
    driver.broadcast(message);
    await settle();
    expect(logger.lines.filter((l) => l.startsWith("warn"))).toEqual([
      "warn: fake adapter: publish failed: bus refused; repeats are counted until the backend recovers",
    ]);
  });

  it("reports an outage once, resyncs when the backend is back and catches presence subscribers up", async () => {
    const { driver, node, states, synced, logger } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    await driver.localState.join("app", "presence-room", "s1", { userId: "u1", userInfo: null });
    await driver.localState.join("app", "public", "s1");
    driver.events!.down("socket closed");
    driver.events!.down("socket closed");
    driver.events!.up();
    await settle();
    expect(states).toEqual([[true, undefined], [false, "socket closed"], [true, undefined]]);
    expect(logger.lines.filter((l) => l.includes("connection lost"))).toHaveLength(1);
    expect(logger.lines).toContain("info: fake adapter: connection restored, resynchronising cluster state");
    expect(driver.reconciles).toBe(2);
    // Only presence channels, with removals unless the backend had lost its data.
    expect(synced).toEqual([["presence-room", { members: new Map([["u-remote", null]]), seq: 5 }, true]]);
  });

  it("keeps treating the store as refilled after a resync the next outage cut short: no repeated webhooks", async () => {
    const { driver, node, transitions } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    driver.events!.down("socket closed");
    // The store comes back empty, and this node's re-registration is cut short by the next outage.
    driver.lostData = true;
    driver.goesDownInResync = true;
    driver.resyncWrites = [{
      type: "joined", channel: "presence-room", socketId: "s1", member: { userId: "u1", userInfo: null }, occupied: true, memberAdded: true,
      subscriptionCount: 1,
    }];
    driver.events!.up();
    await settle();
    driver.lostData = false;
    driver.goesDownInResync = false;
    driver.events!.up();
    await settle();
    // Both passes re-registered what the cluster knew before the loss: frames only, never a webhook.
    expect(transitions.length).toBeGreaterThanOrEqual(2);
    expect(transitions.every((t) => t.type === "joined" && !t.occupied && t.localOnly === true)).toBe(true);
  });

  it("resyncs and catches up once more a node timeout after reconnecting, with removals once the store has refilled", async () => {
    const { driver, node, synced, timers } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    await timers.advance(3000);
    expect(driver.reconciles).toBe(1); // no follow-up after the first connection
    await driver.localState.join("app", "presence-room", "s1", { userId: "u1", userInfo: null });
    driver.lostData = true;
    driver.events!.down("socket closed");
    driver.events!.up();
    await settle();
    expect(synced.map(([, , removals]) => removals)).toEqual([false]);
    driver.lostData = false;
    // The bus subscription may come back after the first catch-up, and the other nodes refill the store.
    await timers.advance(1500);
    expect(driver.reconciles).toBe(2);
    await timers.advance(1000);
    expect(driver.reconciles).toBe(3);
    expect(synced.map(([, , removals]) => removals)).toEqual([false, true]);
    await timers.advance(5000);
    expect(driver.reconciles).toBe(3); // once
  });

  it("catches presence subscribers up once a peer was silent for a node timeout: what it decided last may never have been announced", async () => {
    const { driver, synced, timers, logger } = await upWithPresence();
    const hello = () => driver.events!.message(JSON.stringify({ o: "B" }));
    for (let t = 0; t < 3000; t += 500) {
      hello();
      await timers.advance(500);
    }
    expect(synced).toEqual([]); // B says hello every tick: nothing to catch up
    await timers.advance(2500); // B died (2 s node timeout)
    expect(synced).toEqual([["presence-room", { members: new Map([["u-remote", null]]), seq: 5 }, true]]);
    expect(logger.lines).toContain("debug: fake adapter: node(s) B silent for a node timeout; catching presence subscribers up");
    await timers.advance(5000);
    expect(synced).toHaveLength(1); // once per silence
  });

  it("after the store lost its data, leaves a silent peer's catch-up to the follow-up: no removals while the store refills", async () => {
    const { driver, synced, timers } = await upWithPresence();
    driver.events!.message(JSON.stringify({ o: "B" }));
    driver.lostData = true;
    driver.events!.down("socket closed");
    await timers.advance(2500); // away past the node timeout: B is not heard meanwhile
    driver.events!.up();
    await settle();
    driver.lostData = false;
    await timers.advance(2500); // the follow-up, a node timeout after reconnecting
    expect(synced.map(([, , removals]) => removals)).toEqual([false, true]);
    // B is judged only after the reconnect grace, long after the store refilled.
    await timers.advance(RECONNECT_GRACE_MS);
    expect(synced.map(([, , removals]) => removals)).toEqual([false, true, true]);
  });

  it("retries the catch-up after a silent peer on the next tick when the store fails it", async () => {
    const { driver, synced, timers } = await upWithPresence();
    driver.events!.message(JSON.stringify({ o: "B" }));
    driver.storeDown = true;
    await timers.advance(2500);
    expect(synced).toEqual([]);
    driver.storeDown = false;
    await timers.advance(1000);
    expect(synced.map(([channel]) => channel)).toEqual(["presence-room"]);
  });

  it("runs a silent peer's catch-up again when going offline cut it short", async () => {
    const { driver, synced, timers } = await upWithPresence();
    await driver.localState.join("app", "presence-other", "s2", { userId: "u2", userInfo: null });
    driver.events!.message(JSON.stringify({ o: "B" }));
    driver.goesDownInRead = true;
    await timers.advance(2500); // B silent: the catch-up reads one channel, then the node is offline
    expect(synced.map(([channel]) => channel)).toEqual(["presence-room"]);
    driver.events!.up();
    await timers.advance(5000); // the reconnect's catch-up and its follow-up, then the silent peer's
    expect(synced.map(([channel]) => channel).slice(1)).toEqual(Array(3).fill(["presence-room", "presence-other"]).flat());
  });

  it("tells the driver when its ticker stalled, and after a pause past the node timeout resyncs and catches up", async () => {
    const { driver, node, synced, timers, logger } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    await driver.localState.join("app", "presence-room", "s1", { userId: "u1", userInfo: null });
    await timers.advance(3000);
    expect([driver.stalls, driver.reconciles]).toEqual([0, 1]);
    // Ticks every 500 ms: one 1.2 s late is a stall (the driver must not judge heartbeats by it)...
    timers.pause(1200);
    await timers.advance(0);
    expect([driver.stalls, driver.reconciles, synced.length]).toEqual([1, 1, 0]);
    // ...and a pause past the 2 s timeout may have got this node swept: resync and catch up.
    timers.pause(2500);
    await timers.advance(0);
    expect([driver.stalls, driver.reconciles, synced.length]).toEqual([2, 2, 1]);
    expect(logger.lines.some((l) => /^warn: fake adapter: this node was paused for 2500 ms, past the node timeout/.test(l))).toBe(true);
  });

  it("marks leaves decided while away as local only, and leaves them to the store's own transitions when it kept its data", async () => {
    const { driver, node, timers, transitions } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    driver.events!.down("socket closed");
    expect(driver.leaveWhileAway("presence-x", true, "u1")).toEqual({ vacated: true, memberRemoved: true, subscriptionCount: 0, seq: 0, countSeq: 0, localOnly: true });
    driver.events!.up();
    await timers.advance(5000);
    expect(transitions).toEqual([]);
  });

  it("after the store lost its data, announces a leave decided while away once the refilled store confirms it", async () => {
    const { driver, node, timers, transitions } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    driver.events!.down("socket closed");
    driver.leaveWhileAway("presence-x", true, "u1"); // the store has u-remote only: u1 is gone; 7 subscribers: not vacated
    driver.leaveWhileAway("private-y", false, undefined);
    driver.lostData = true;
    driver.events!.up();
    await settle();
    expect(transitions).toEqual([]); // the other nodes are still re-registering
    driver.lostData = false;
    await timers.advance(2500); // the follow-up, a node timeout later
    expect(transitions).toEqual([
      { type: "left", channel: "presence-x", userId: "u1", vacated: false, memberRemoved: true, seq: 0, subscriptionCount: 0, remoteOnly: true },
    ]);
    await timers.advance(5000);
    expect(transitions).toHaveLength(1);
  });

  it("resyncs again on the next tick after a resync failed", async () => {
    const { driver, node, timers, logger } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    await driver.localState.join("app", "presence-room", "s1", { userId: "u1", userInfo: null });
    driver.storeDown = true;
    driver.events!.down("gone");
    driver.events!.up();
    await settle();
    expect(logger.lines.some((l) => l.startsWith("warn: fake adapter: resync failed: store timed out"))).toBe(true);
    driver.storeDown = false;
    await timers.advance(500);
    expect(driver.reconciles).toBe(3);
  });

  it("releases its state and closes the transport on stop", async () => {
    const { driver, node } = setup();
    const started = driver.start(node);
    driver.events!.up();
    await started;
    await driver.stop();
    expect(driver.released).toBe(1);
    expect(driver.closed).toBe(true);
    // Last on the node bus: a goodbye, so the others do not catch up on its behalf.
    expect(driver.routes.at(-1)).toBe("(node)");
    expect(JSON.parse(driver.published.at(-1)!)).toEqual({ o: driver.nodeId, b: 1 });
  });

  it("says no goodbye when its release failed: the peers' catch-up and sweep repair what is left", async () => {
    const { driver, logger } = await upWithPresence();
    driver.releaseFails = true;
    await driver.stop();
    expect(driver.published.map((p) => JSON.parse(p)).filter((e) => e.b)).toEqual([]);
    expect(logger.lines.some((l) => l.includes("deregistering on stop failed: release script failed"))).toBe(true);
  });

  it("tells the driver when another node swept this one, and not for a sweep of someone else", async () => {
    const { driver } = await upWithPresence();
    driver.events!.message(JSON.stringify({ o: "B", s: "C" }));
    driver.events!.message(JSON.stringify({ o: "B", s: driver.nodeId }));
    expect(driver.sweptByNodes).toEqual(["B"]);
  });

  it("does not take its own pause for its peers' silence: no catch-up for them after a stall", async () => {
    const { driver, synced, timers } = await upWithPresence();
    driver.events!.message(JSON.stringify({ o: "B" }));
    await timers.advance(1500);
    driver.events!.message(JSON.stringify({ o: "B" }));
    timers.pause(1500); // B's hellos of the pause are still unread when the ticker fires
    await timers.advance(0);
    driver.events!.message(JSON.stringify({ o: "B" }));
    await timers.advance(1000);
    expect(synced).toEqual([]);
  });

  it("does not catch up for a peer that said goodbye", async () => {
    const { driver, synced, timers, logger } = await upWithPresence();
    driver.events!.message(JSON.stringify({ o: "B" }));
    driver.events!.message(JSON.stringify({ o: "B", b: 1 }));
    await timers.advance(5000);
    expect(synced).toEqual([]);
    expect(logger.lines).toContain("debug: fake adapter: node B stopped");
  });
});
