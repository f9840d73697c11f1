// The nats sweeper, driven with a fake link, a set of live peers (what the bus heard) and a manual
// clock: when it sweeps (a peer gone silent, or once after coming up, past the reconnect grace),
// what its scan finds, and that it tells the swept node. The peers' own judgement of silence is
// cluster/bus-peers.test.ts's.
import { describe, expect, it } from "vitest";
import type { NatsLink } from "../../../src/adapters/nats/connection.ts";
import { key, memberKey } from "../../../src/adapters/nats/state.ts";
import { Sweeper } from "../../../src/adapters/nats/sweeper.ts";
import { RECONNECT_GRACE_MS } from "../../../src/adapters/cluster/bus-peers.ts";
import type { Logger } from "../../../src/core/runtime.ts";

const TIMEOUT = 3000;

function setup(store: Record<string, unknown> = {}, live: string[] = []) {
  let now = 1_000_000;
  const lines: string[] = [];
  const written: string[] = [];
  const told: string[] = [];
  const peers = new Set(live);
  /** The bus peers settle until then (BusPeers.settling: after an outage, the reconnect grace). */
  let graceUntil = 0;
  const link = {
    entries: async () => new Map(Object.entries(store).map(([k, value]) => [k, { value, revision: 1 }])),
    purgeDeletes: async () => {},
  } as unknown as NatsLink;
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  const logger: Logger = { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
  const ownSynced: string[] = [];
  const recounted: string[] = [];
  const sweeper = new Sweeper("me", link, TIMEOUT, () => now, logger, { has: (n) => peers.has(n), known: () => peers, settling: () => now < graceUntil }, {
    active: () => true,
    failed: (e) => { throw e; },
    tellSwept: (node) => void told.push(node),
    syncOwn: async (appId, k) => void ownSynced.push(`${appId} ${k}`),
    // What the shared sweep gets to empty: "<key> <dead node>".
    sweepFound: async (found) => {
      for (const [node, apps] of found) for (const keys of apps.values()) for (const k of keys) written.push(`${k} ${node}`);
    },
    recount: async (appId, channel) => void recounted.push(`${appId} ${channel}`),
    dropExpired: async () => 0,
  });
  /** Back from an outage: the peers settle for the reconnect grace. */
  const reconnect = () => {
    graceUntil = now + RECONNECT_GRACE_MS;
    sweeper.connected();
  };
  /** Connected, and the reconnect grace over: the tick after this runs the first full sweep. */
  const upAndPastGrace = async () => {
    reconnect();
    now += RECONNECT_GRACE_MS;
    await sweeper.tick();
    await sweeper.idle();
  };
  return { sweeper, peers, lines, written, told, ownSynced, recounted, reconnect, upAndPastGrace, advance: (ms: number) => (now += ms) };
}

describe("nats sweeper", () => {
  it("sweeps nothing for the reconnect grace after (re)connecting: a live node may still be in its back-off", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { other: 1, me: 1 } } });
    t.reconnect(); // NATS is back; "other" has not reconnected yet
    for (let ms = 0; ms < RECONNECT_GRACE_MS - TIMEOUT / 4; ms += TIMEOUT / 4) {
      t.advance(TIMEOUT / 4);
      await t.sweeper.tick();
    }
    expect(t.written).toEqual([]);
    t.advance(TIMEOUT / 4);
    await t.sweeper.tick();
    await t.sweeper.idle();
    expect(t.written).toEqual([`${key("app", "c", "presence-x")} other`]);
  });

  it("runs the first sweep a node timeout after a first start: every live node has said hello by then", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { dead: 1 } } });
    t.sweeper.connected();
    t.advance(TIMEOUT - 1);
    await t.sweeper.tick();
    expect(t.written).toEqual([]);
    t.advance(1);
    await t.sweeper.tick();
    await t.sweeper.idle();
    expect(t.written).toEqual([`${key("app", "c", "presence-x")} dead`]);
  });

  it("sweeps a peer gone silent on the next tick, once, and tells the swept node", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { other: 1, me: 1 } } }, ["other"]);
    await t.upAndPastGrace();
    expect(t.written).toEqual([]); // "other" is alive
    t.peers.delete("other");
    t.sweeper.gone(["other"]);
    await t.sweeper.tick();
    await t.sweeper.idle();
    expect(t.written).toEqual([`${key("app", "c", "presence-x")} other`]);
    expect(t.told).toEqual(["other"]);
    expect(t.lines).toContain("info: nats adapter: node other went silent on the bus; removing its sockets");
    await t.sweeper.tick();
    expect(t.written).toHaveLength(1);
  });

  it("sweeps again a node timeout after a pause of its own", async () => {
    const t = setup({ [key("app", "c", "private-mine")]: { n: { me: 1 } } });
    await t.upAndPastGrace();
    expect(t.ownSynced).toHaveLength(1);
    t.sweeper.stalled();
    t.advance(TIMEOUT - 1);
    await t.sweeper.tick();
    expect(t.ownSynced).toHaveLength(1);
    t.advance(1);
    await t.sweeper.tick();
    await t.sweeper.idle();
    expect(t.ownSynced).toHaveLength(2);
  });

  it("re-checks its own share of every key that names it (a write a killed NATS server lost)", async () => {
    const mine = key("app", "c", "private-mine");
    const t = setup({ [mine]: { n: { me: 2 } }, [key("app", "c", "private-other")]: { n: { other: 1 } } }, ["other"]);
    await t.upAndPastGrace();
    expect(t.ownSynced).toEqual([`app ${mine}`]);
    expect(t.written).toEqual([]);
  });

  it("refuses to sweep over a value of the wrong shape, naming its key (no per-key reads: the fake link has none)", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { dead: "one" } } });
    t.reconnect();
    t.advance(RECONNECT_GRACE_MS);
    await expect(t.sweeper.tick()).rejects.toThrow(/key \S+ holds \{"n":\{"dead":"one"\}\}, not a channel value/);
    expect(t.written).toEqual([]);
  });

  it("recounts, after sweeping, a presence channel whose member count disagreed with its member keys", async () => {
    const t = setup({
      [key("app", "c", "presence-off")]: { n: { A: 2 }, mc: 1 },
      [memberKey("app", "presence-off", "u1")]: { n: { A: 1 } },
      [memberKey("app", "presence-off", "u2")]: { n: { A: 1 } }, // A stopped between this write and the channel's
      [key("app", "c", "presence-ok")]: { n: { A: 1 }, mc: 1 },
      [memberKey("app", "presence-ok", "u1")]: { n: { A: 1 } },
    }, ["A"]);
    await t.upAndPastGrace();
    expect(t.recounted).toEqual(["app presence-off"]);
  });

  it("lists this node and the live peers as the cluster's nodes", () => {
    const t = setup({}, ["b", "a"]);
    expect(t.sweeper.liveNodes()).toEqual(["a", "b", "me"]);
    expect(t.sweeper.alive("me") && t.sweeper.alive("a") && !t.sweeper.alive("c")).toBe(true);
  });
});
