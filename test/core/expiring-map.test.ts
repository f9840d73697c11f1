import { describe, expect, it } from "vitest";
import { ExpiringMap } from "../../src/core/expiring-map.ts";

describe("ExpiringMap", () => {
  it("forgets an entry once its lifetime is over", () => {
    let now = 1000;
    const map = new ExpiringMap<string>(10, () => now);
    map.set("a", "x", 500);
    expect(map.get("a")).toBe("x");
    now += 499;
    expect(map.get("a")).toBe("x");
    now += 1;
    expect(map.get("a")).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it("keeps at most `max` entries, dropping the oldest first", () => {
    const map = new ExpiringMap<number>(3, () => 0);
    for (let i = 0; i < 100; i++) map.set(`k${i}`, i, 60_000);
    expect(map.size).toBe(3);
    expect(map.get("k96")).toBeUndefined();
    expect([map.get("k97"), map.get("k98"), map.get("k99")]).toEqual([97, 98, 99]);
  });

  it("drops lapsed entries from the oldest end on write, without reading them", () => {
    let now = 0;
    const map = new ExpiringMap<number>(1000, () => now);
    for (let i = 0; i < 50; i++) map.set(`old${i}`, i, 100);
    now = 200;
    map.set("new", 1, 100);
    expect(map.size).toBe(1);
  });

  it("a key written again lives from its new write", () => {
    let now = 0;
    const map = new ExpiringMap<string>(10, () => now);
    map.set("a", "pending", 100);
    now = 90;
    map.set("a", "done", 1000);
    now = 500;
    expect(map.get("a")).toBe("done");
  });
});
