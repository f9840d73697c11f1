import { describe, expect, it } from "vitest";
import { EventStream } from "../../src/core/events.ts";
import { framesAfterAck } from "../../src/core/handlers/join-window.ts";
import { channelEvent, memberAdded, memberRemoved, presenceSnapshot } from "../../src/core/messages.ts";
import { LocalRegistry } from "../../src/core/registry.ts";
import type { Connection } from "../../src/core/connection.ts";

const NO_EVENTS = new EventStream(() => 0, console);

const ch = "presence-room";
const snapshot = (...ids: string[]) => presenceSnapshot(new Map(ids.map((id) => [id, null])));

describe("framesAfterAck", () => {
  it("drops member events the presence snapshot already reflects, keeps the rest in order", () => {
    const held = [
      memberAdded(ch, "1", null), // already in the snapshot
      memberAdded(ch, "2", null), // joined after the snapshot
      channelEvent("e", ch, "{}"),
      memberRemoved(ch, "3"), // never seen: nothing to remove
      memberRemoved(ch, "1"), // left after the snapshot
      memberAdded(ch, "2", null), // duplicate of the kept one
    ];
    expect(framesAfterAck(held, snapshot("1"), undefined)).toEqual([
      memberAdded(ch, "2", null),
      channelEvent("e", ch, "{}"),
      memberRemoved(ch, "1"),
    ]);
  });

  it("drops events up to and including the replayed cache entry", () => {
    const a = channelEvent("a", "cache-x", "1");
    const b = channelEvent("b", "cache-x", "2");
    const c = channelEvent("c", "cache-x", "3");
    expect(framesAfterAck([a, b, c], undefined, b)).toEqual([c]);
    expect(framesAfterAck([a, c], undefined, b)).toEqual([a, c]);
  });
});

describe("LocalRegistry join window", () => {
  const conn = (id: string) => {
    const sent: string[] = [];
    const c = { id, app: { id: "app" }, channels: new Map(), socket: { send: (f: string) => sent.push(f) }, send: (f: string) => sent.push(f), sent };
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
    expect(registry.join(joiner, ch)).toEqual(["f1"]);
    registry.deliver("app", ch, "f3", undefined, NO_EVENTS);
    expect(joiner.sent).toEqual(["f3"]);
    expect(member.sent).toEqual(["f1", "f2", "f3"]);
  });

  it("forgets held frames when the subscription fails", () => {
    const registry = new LocalRegistry();
    const joiner = conn("2.2");
    registry.beginJoin(joiner, ch);
    registry.deliver("app", ch, "f1", undefined, NO_EVENTS);
    expect(registry.endJoin(joiner, ch)).toEqual(["f1"]);
    registry.deliver("app", ch, "f2", undefined, NO_EVENTS);
    expect(registry.endJoin(joiner, ch)).toEqual([]);
  });
});
