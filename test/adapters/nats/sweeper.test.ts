// The nats sweeper's judgement of the other nodes, driven with a fake link and a manual clock:
// a pause of this node is not the others' silence, a sweep finds the dead node's keys and tells
// the swept node, and a node that hears it was swept asks to re-register.
import { describe, expect, it } from "vitest";
import type { NatsLink } from "../../../src/adapters/nats/connection.ts";
import { key, memberKey } from "../../../src/adapters/nats/state.ts";
import { Sweeper } from "../../../src/adapters/nats/sweeper.ts";
import { RECONNECT_GRACE_MS } from "../../../src/adapters/cluster/bus-peers.ts";
import type { Logger } from "../../../src/core/runtime.ts";

const TIMEOUT = 3000;

function setup(store: Record<string, unknown> = {}) {
  let now = 1_000_000;
  const published: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const written: string[] = [];
  const link = {
    publish: (_subject: string, payload: string) => void published.push(JSON.parse(payload)),
    entries: async () => new Map(Object.entries(store).map(([k, value]) => [k, { value, revision: 1 }])),
    purgeDeletes: async () => {},
  } as unknown as NatsLink;
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  const logger: Logger = { info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
  let sweptHere = 0;
  const ownSynced: string[] = [];
  const recounted: string[] = [];
  const sweeper = new Sweeper("me", link, "hb", TIMEOUT, () => now, logger, {
    active: () => true,
    failed: (e) => { throw e; },
    sweptHere: () => void sweptHere++,
    syncOwn: async (appId, k) => void ownSynced.push(`${appId} ${k}`),
    // What the shared sweep gets to empty: "<key> <dead node>".
    sweepFound: async (found) => {
      for (const [node, apps] of found) for (const keys of apps.values()) for (const k of keys) written.push(`${k} ${node}`);
    },
    recount: async (appId, channel) => void recounted.push(`${appId} ${channel}`),
    dropExpired: async () => 0,
  });
  return {
    sweeper, published, lines, written, ownSynced, recounted,
    advance: (ms: number) => (now += ms),
    /** Connected, and most of the reconnect grace gone: a node timeout from now the sweeper judges again. */
    connect: () => {
      sweeper.connected();
      now += RECONNECT_GRACE_MS - TIMEOUT;
    },
    get sweptHere() { return sweptHere; },
  };
}

describe("nats sweeper", () => {
  it("expires a node that stopped heartbeating while this node kept ticking", async () => {
    const t = setup();
    t.connect();
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other" }), true);
    for (let i = 0; i < 5; i++) {
      t.advance(TIMEOUT / 4);
      await t.sweeper.tick();
    }
    expect(t.sweeper.alive("other")).toBe(false);
    expect(t.lines).toContain("info: nats adapter: node other stopped sending heartbeats; removing its sockets");
  });

  it("judges nobody for the reconnect grace after (re)connecting: a live node may still be in its back-off", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { other: 1, me: 1 } } });
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other" }), true);
    t.sweeper.connected(); // NATS is back; "other" has not reconnected yet
    for (let ms = 0; ms < RECONNECT_GRACE_MS - TIMEOUT / 4; ms += TIMEOUT / 4) {
      t.advance(TIMEOUT / 4);
      await t.sweeper.tick();
    }
    expect(t.sweeper.alive("other")).toBe(true);
    expect(t.written).toEqual([]);
    t.advance(TIMEOUT / 4);
    await t.sweeper.tick();
    await t.sweeper.idle();
    expect(t.sweeper.alive("other")).toBe(false);
    expect(t.written).toEqual([`${key("app", "c", "presence-x")} other`]);
  });

  it("does not take its own pause for the others' silence: after stalled() every node gets a fresh timeout", async () => {
    const t = setup();
    t.connect();
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other" }), true);
    t.advance(TIMEOUT + 500); // frozen: the other node's heartbeats of that time are still unread
    t.sweeper.stalled();
    await t.sweeper.tick();
    expect(t.sweeper.alive("other")).toBe(true);
    expect(t.lines.filter((l) => l.includes("stopped sending heartbeats"))).toEqual([]);
    // It asks for everyone's heartbeat at once, and still expires a node that stays silent.
    expect(t.published).toContainEqual({ id: "me", t: "hello" });
    for (let i = 0; i < 5; i++) {
      t.advance(TIMEOUT / 4);
      await t.sweeper.tick();
    }
    expect(t.sweeper.alive("other")).toBe(false);
  });

  it("tells a swept node that it was swept", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { dead: 1, me: 1 } } });
    t.connect();
    for (let i = 0; i < 5; i++) {
      t.advance(TIMEOUT / 4);
      await t.sweeper.tick();
    }
    await t.sweeper.idle();
    expect(t.written).toEqual([`${key("app", "c", "presence-x")} dead`]);
    expect(t.published).toContainEqual({ id: "me", t: "swept", node: "dead" });
  });

  it("re-checks its own share of every key that names it (a write a killed NATS server lost)", async () => {
    const mine = key("app", "c", "private-mine");
    const t = setup({ [mine]: { n: { me: 2 } }, [key("app", "c", "private-other")]: { n: { other: 1 } } });
    t.connect();
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other" }), true);
    t.advance(TIMEOUT);
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other" }), true);
    await t.sweeper.tick(); // the first full sweep after coming up
    await t.sweeper.idle();
    expect(t.ownSynced).toEqual([`app ${mine}`]);
    expect(t.written).toEqual([]);
  });

  it("refuses to sweep over a value of the wrong shape, naming its key (no per-key reads: the fake link has none)", async () => {
    const t = setup({ [key("app", "c", "presence-x")]: { n: { dead: "one" } } });
    t.connect();
    t.advance(TIMEOUT);
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
    });
    t.connect();
    t.sweeper.onHeartbeat(JSON.stringify({ id: "A" }), true);
    t.advance(TIMEOUT);
    t.sweeper.onHeartbeat(JSON.stringify({ id: "A" }), true);
    await t.sweeper.tick();
    await t.sweeper.idle();
    expect(t.recounted).toEqual(["app presence-off"]);
  });

  it("asks to re-register when it hears that it was swept, and only then", () => {
    const t = setup();
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other", t: "swept", node: "someone-else" }), true);
    expect(t.sweptHere).toBe(0);
    t.sweeper.onHeartbeat(JSON.stringify({ id: "other", t: "swept", node: "me" }), true);
    expect(t.sweptHere).toBe(1);
    expect(t.sweeper.alive("other")).toBe(true);
    expect(t.lines).toContain("warn: nats adapter: node other swept this node's state (it missed our heartbeats); re-registering");
  });
});
