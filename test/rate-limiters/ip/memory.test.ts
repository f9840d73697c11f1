import { describe, expect, it } from "vitest";
import { MemoryIpLimiter } from "../../../src/rate-limiters/ip/memory.ts";

describe("MemoryIpLimiter", () => {
  it("allows `limit` hits per window and key, then refuses until the window resets", () => {
    let now = 60_000;
    const limiter = new MemoryIpLimiter(() => now);
    expect(limiter.hit("a", 2, 1000)).toEqual({ allowed: true, remaining: 1, resetMs: 1000, limit: 2 });
    expect(limiter.hit("a", 2, 1000).allowed).toBe(true);
    now += 400;
    expect(limiter.hit("a", 2, 1000)).toEqual({ allowed: false, remaining: 0, resetMs: 600, limit: 2 });
    expect(limiter.hit("b", 2, 1000).allowed).toBe(true);
    now += 600;
    expect(limiter.hit("a", 2, 1000).allowed).toBe(true);
  });

  it("forgets stale windows, so many addresses don't pile up", () => {
    let now = 0;
    const limiter = new MemoryIpLimiter(() => now);
    for (let i = 0; i < 1000; i++) limiter.hit(`ip${i}`, 5, 1000);
    now += 5000;
    limiter.hit("late", 5, 1000);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBe(1);
  });

  it("a short window's pruning leaves a longer window's counts alone", () => {
    let now = 0;
    const limiter = new MemoryIpLimiter(() => now);
    limiter.hit("api:a", 2, 60_000);
    limiter.hit("api:a", 2, 60_000);
    now += 10_000;
    limiter.hit("ws:a", 5, 1000);
    expect(limiter.hit("api:a", 2, 60_000).allowed).toBe(false);
  });
});
