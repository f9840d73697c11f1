import { describe, expect, it } from "vitest";
import { BusPeers, RECONNECT_GRACE_MS } from "../../../src/adapters/cluster/bus-peers.ts";

function setup() {
  let now = 0;
  const peers = new BusPeers(10_000, () => now);
  return { peers, advance: (ms: number) => void (now += ms) };
}

describe("BusPeers", () => {
  it("awaits, after this node's outage, the peers that were on the bus before it", () => {
    const { peers, advance } = setup();
    peers.heardFrom("B");
    peers.heardFrom("C");
    expect(peers.missing()).toEqual([]);
    peers.lost();
    advance(3000);
    peers.rejoined();
    expect(peers.missing().sort()).toEqual(["B", "C"]);
    peers.heardFrom("B");
    expect(peers.missing()).toEqual(["C"]);
    peers.heardFrom("C");
    expect(peers.missing()).toEqual([]);
  });

  it("says whether a node is news (never heard, or awaited), so its hello can be answered at once", () => {
    const { peers } = setup();
    expect(peers.heardFrom("B")).toBe(true);
    expect(peers.heardFrom("B")).toBe(false);
    peers.lost();
    peers.rejoined();
    expect(peers.heardFrom("B")).toBe(true);
    expect(peers.heardFrom("B")).toBe(false);
  });

  it("stops waiting a node timeout (at least the reconnect grace) after the rejoin: a peer not back by then is taken for dead", () => {
    const { peers, advance } = setup();
    peers.heardFrom("B");
    peers.lost();
    advance(60_000); // a long outage: waiting starts when this node is back, not when it left
    peers.rejoined();
    advance(9_999);
    expect(peers.missing()).toEqual(["B"]);
    advance(1);
    expect(peers.missing()).toEqual([]);
    // A short node timeout still leaves a live peer its reconnect back-off.
    let now = 0;
    const quick = new BusPeers(3000, () => now);
    quick.heardFrom("B");
    quick.lost();
    quick.rejoined();
    now = RECONNECT_GRACE_MS - 1;
    expect(quick.missing()).toEqual(["B"]);
  });

  it("prunes nobody for the reconnect grace after this node is back, then a peer still silent", () => {
    const { peers, advance } = setup();
    peers.heardFrom("B");
    peers.heardFrom("C");
    peers.lost();
    advance(30_000); // away long past the node timeout
    peers.rejoined();
    peers.heardFrom("C");
    advance(RECONNECT_GRACE_MS - 1);
    expect(peers.prune()).toEqual([]);
    expect([...peers.known()].sort()).toEqual(["B", "C"]);
    advance(2); // past the grace, and B silent for a node timeout since this node is back
    peers.heardFrom("C");
    expect(peers.prune()).toEqual(["B"]);
    expect(peers.has("B") || !peers.has("C")).toBe(false);
  });

  it("gives every peer a fresh timeout on restart (this node was paused: their silence was its own)", () => {
    const { peers, advance } = setup();
    peers.heardFrom("B");
    advance(10_001);
    peers.restart();
    expect(peers.prune()).toEqual([]);
    advance(10_001);
    expect(peers.prune()).toEqual(["B"]);
  });

  it("forgets a peer that said goodbye: neither awaited after an outage nor pruned as silent", () => {
    const { peers, advance } = setup();
    peers.heardFrom("B");
    peers.heardFrom("C");
    peers.departed("B");
    peers.lost();
    peers.rejoined();
    expect(peers.missing()).toEqual(["C"]);
    advance(10_001);
    expect(peers.prune()).toEqual(["C"]);
  });

  it("does not await a peer that had gone silent before the outage, nor one it has never heard", () => {
    const { peers, advance } = setup();
    peers.heardFrom("old");
    advance(10_001);
    peers.heardFrom("B");
    peers.prune();
    peers.lost();
    peers.rejoined();
    expect(peers.missing()).toEqual(["B"]);
  });
});
