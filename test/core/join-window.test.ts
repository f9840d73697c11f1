import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { EventStream } from "../../src/core/events.ts";
import { framesAfterAck } from "../../src/core/handlers/join-window.ts";
import { channelEvent, CloseCode, memberAdded, memberRemoved } from "../../src/core/messages.ts";
import { MemberView } from "../../src/core/presence.ts";
import { LocalRegistry } from "../../src/core/registry.ts";
import type { Connection } from "../../src/core/connection.ts";
import { Harness, settle } from "../helpers/harness.ts";

const NO_EVENTS = new EventStream(() => 0, console);

const ch = "presence-room";
const view = (seq: number, ...ids: string[]) => MemberView.of({ members: new Map(ids.map((id) => [id, null])), seq });

describe("framesAfterAck", () => {
  it("passes member events through the socket's view, keeps the rest in order", () => {
    const held = [
      { frame: memberAdded(ch, "1", null), member: { userId: "1", added: true, seq: 5 } }, // in the snapshot
      { frame: memberAdded(ch, "2", null), member: { userId: "2", added: true, seq: 12 } }, // after it
      { frame: channelEvent("e", ch, "{}") },
      { frame: memberRemoved(ch, "3"), member: { userId: "3", added: false, seq: 13 } }, // never known
      { frame: memberRemoved(ch, "1"), member: { userId: "1", added: false, seq: 14 } }, // left after it
    ];
    expect(framesAfterAck(held, view(10, "1"), undefined)).toEqual([
      memberAdded(ch, "2", null),
      channelEvent("e", ch, "{}"),
      memberRemoved(ch, "1"),
    ]);
  });

  it("drops events up to and including the replayed cache entry", () => {
    const a = channelEvent("a", "cache-x", "1");
    const b = channelEvent("b", "cache-x", "2");
    const c = channelEvent("c", "cache-x", "3");
    const held = (...frames: string[]) => frames.map((frame) => ({ frame }));
    expect(framesAfterAck(held(a, b, c), undefined, b)).toEqual([c]);
    expect(framesAfterAck(held(a, c), undefined, b)).toEqual([a, c]);
  });
});

describe("LocalRegistry join window", () => {
  const conn = (id: string) => {
    const sent: string[] = [];
    const c = { id, app: { id: "app" }, channels: new Map(), socket: { send: (f: string) => sent.push(f) }, send: (f: string) => sent.push(f), overBound: () => false, sent };
    return c as unknown as Connection & { sent: string[] };
  };

  it("holds frames for a socket whose subscription is in flight and hands them over on join", () => {
    const registry = new LocalRegistry();
    const member = conn("1.1");
    const joiner = conn("2.2");
    registry.addSocket(member);
    registry.join(member, ch);
    registry.beginJoin(joiner, ch);
    registry.deliver("app", ch, "f1", undefined, NO_EVENTS);
    registry.deliver("app", ch, "f2", "2.2", NO_EVENTS); // excluded socket: not held either
    expect(joiner.sent).toEqual([]);
    expect(registry.join(joiner, ch)).toEqual([{ frame: "f1" }]);
    registry.deliver("app", ch, "f3", undefined, NO_EVENTS);
    expect(joiner.sent).toEqual(["f3"]);
    expect(member.sent).toEqual(["f1", "f2", "f3"]);
  });

  it("forgets held frames when the subscription fails", () => {
    const registry = new LocalRegistry();
    const joiner = conn("2.2");
    registry.beginJoin(joiner, ch);
    registry.deliver("app", ch, "f1", undefined, NO_EVENTS);
    expect(registry.endJoin(joiner, ch)).toEqual([{ frame: "f1" }]);
    registry.deliver("app", ch, "f2", undefined, NO_EVENTS);
    expect(registry.endJoin(joiner, ch)).toEqual([]);
  });
});

describe("frames held for a joining socket", () => {
  it("count against the socket's byte bound: past it the socket is closed with 4100 like a slow reader", async () => {
    const adapter = new LocalAdapter();
    const join = adapter.join.bind(adapter);
    // The second join waits (a slow backend) while the channel is busy.
    let stuck = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    adapter.join = async (...args) => {
      if (stuck) await gate;
      return join(...args);
    };
    const h = await new Harness({ adapter, env: { MAX_SOCKET_BUFFER_KB: "4" } }).start();
    const reader = await h.connect();
    await reader.subscribe("busy");
    stuck = true;
    const joiner = await h.connect();
    await joiner.subscribe("busy");
    const data = JSON.stringify({ text: "x".repeat(200) });
    // Under the bound: held, and handed over after the ack.
    await h.server.publish(h.app, "busy", "early", data);
    expect(joiner.socket.closed).toBeUndefined();
    for (let i = 0; i < 40; i++) await h.server.publish(h.app, "busy", "burst", data);
    await settle();
    expect(joiner.socket.closed?.code).toBe(CloseCode.OverCapacity);
    expect(reader.socket.closed).toBeUndefined();
    expect(reader.events("burst", "busy")).toHaveLength(40);
    release();
    await settle();
    expect(joiner.events("burst", "busy")).toEqual([]);
    await h.stop();
  });

  it("are handed over when they stay within the bound", async () => {
    const adapter = new LocalAdapter();
    const join = adapter.join.bind(adapter);
    let stuck = false;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    adapter.join = async (...args) => {
      if (stuck) await gate;
      return join(...args);
    };
    const h = await new Harness({ adapter, env: { MAX_SOCKET_BUFFER_KB: "64" } }).start();
    const reader = await h.connect();
    await reader.subscribe("busy");
    stuck = true;
    const joiner = await h.connect();
    await joiner.subscribe("busy");
    for (let i = 0; i < 40; i++) await h.server.publish(h.app, "busy", "burst", JSON.stringify({ i }));
    release();
    await settle();
    expect(joiner.socket.closed).toBeUndefined();
    expect(joiner.events("burst", "busy").map((f) => f.data.i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await h.stop();
  });
});
