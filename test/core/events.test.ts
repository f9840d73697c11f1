import { describe, expect, it } from "vitest";
import { EventStream, type ServerEvent } from "../../src/core/events.ts";

function quietLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { info() {}, debug() {}, error() {}, warn: (m: string) => void warnings.push(m) } };
}

describe("EventStream", () => {
  it("stamps the time and hands each event to every consumer", () => {
    const { logger } = quietLogger();
    const stream = new EventStream(() => 1234, logger);
    const a: ServerEvent[] = [];
    const b: ServerEvent[] = [];
    stream.subscribe("a", (e) => void a.push(e));
    stream.subscribe("b", (e) => void b.push(e));
    stream.emit({ kind: "channel_occupied", appId: "1", channel: "c" });
    expect(a).toEqual([{ kind: "channel_occupied", appId: "1", channel: "c", time: 1234 }]);
    expect(b).toEqual(a);
  });

  it("delivers only the kinds a consumer asked for, and says which kinds are wanted", () => {
    const { logger } = quietLogger();
    const stream = new EventStream(() => 0, logger);
    expect(stream.wants("broadcast")).toBe(false);
    const seen: string[] = [];
    const off = stream.subscribe("m", (e) => void seen.push(e.kind), ["member_added"]);
    expect(stream.wants("member_added")).toBe(true);
    expect(stream.wants("broadcast")).toBe(false);
    stream.emit({ kind: "broadcast", appId: "1", channel: "c", bytes: 1, sockets: 1 });
    stream.emit({ kind: "member_added", appId: "1", channel: "presence-c", userId: "u" });
    expect(seen).toEqual(["member_added"]);
    off();
    expect(stream.wants("member_added")).toBe(false);
  });

  it("a consumer that throws or rejects is logged and counted; the others still get the event", async () => {
    const { logger, warnings } = quietLogger();
    const stream = new EventStream(() => 0, logger);
    const seen: string[] = [];
    stream.subscribe("thrower", () => {
      throw new Error("boom");
    });
    stream.subscribe("rejecter", async () => {
      throw new Error("later");
    });
    stream.subscribe("fine", (e) => void seen.push(e.kind));
    expect(() => stream.emit({ kind: "cache_miss", appId: "1", channel: "cache-x", first: true })).not.toThrow();
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual(["cache_miss"]);
    expect(stream.failures.get("thrower")).toBe(1);
    expect(stream.failures.get("rejecter")).toBe(1);
    expect(warnings.some((w) => w.includes('"thrower"') && w.includes("cache_miss"))).toBe(true);
  });

  it("a consumer may unsubscribe while an event is being delivered", () => {
    const { logger } = quietLogger();
    const stream = new EventStream(() => 0, logger);
    const seen: string[] = [];
    const off = stream.subscribe("once", () => off());
    stream.subscribe("after", (e) => void seen.push(e.kind));
    stream.emit({ kind: "channel_vacated", appId: "1", channel: "c" });
    stream.emit({ kind: "channel_vacated", appId: "1", channel: "c" });
    expect(seen).toHaveLength(2);
  });
});
