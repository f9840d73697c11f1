import { describe, expect, it } from "vitest";
import { FailureGuard } from "../../src/console/guard.ts";

describe("FailureGuard", () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it("allows the free failures, then locks for a doubling time up to the cap", () => {
    const c = clock();
    const g = new FailureGuard(c.now, { freeFailures: 3, baseLockMs: 1000, maxLockMs: 4000 });
    expect([g.failed(["a"]), g.failed(["a"]), g.failed(["a"])]).toEqual([0, 0, 0]);
    expect(g.retryAfterMs(["a"])).toBe(0);
    expect(g.failed(["a"])).toBe(1000);
    expect(g.retryAfterMs(["a"])).toBe(1000);
    expect(g.failed(["a"])).toBe(2000);
    expect(g.failed(["a"])).toBe(4000);
    expect(g.failed(["a"])).toBe(4000);
    c.advance(3999);
    expect(g.retryAfterMs(["a"])).toBe(1);
    c.advance(1);
    expect(g.retryAfterMs(["a"])).toBe(0);
  });

  it("locks when any of the keys is locked, and a success clears only the keys given", () => {
    const c = clock();
    const g = new FailureGuard(c.now, { freeFailures: 1 });
    g.failed(["app:x", "ip:1"]);
    g.failed(["app:x", "ip:1"]);
    expect(g.retryAfterMs(["app:y", "ip:1"])).toBeGreaterThan(0);
    g.succeeded(["app:x"]);
    expect(g.retryAfterMs(["app:x"])).toBe(0);
    expect(g.retryAfterMs(["ip:1"])).toBeGreaterThan(0);
  });

  it("forgets old failures and bounds the keys it tracks", () => {
    const c = clock();
    const g = new FailureGuard(c.now, { freeFailures: 1, forgetMs: 60_000, maxKeys: 3 });
    g.failed(["a"]);
    c.advance(60_001);
    expect(g.failed(["a"])).toBe(0); // counting started over
    for (const k of ["b", "c", "d", "e"]) g.failed([k]);
    expect(g.size).toBe(3);
  });

  it("keeps a locked key locked however many other keys fail", () => {
    const c = clock();
    // The default bound (10,000 keys) and twice as many other addresses, as issue #23 asks.
    const g = new FailureGuard(c.now, { freeFailures: 1, baseLockMs: 60_000 });
    g.failed(["ip:attacker"]);
    g.failed(["ip:attacker"]);
    expect(g.retryAfterMs(["ip:attacker"])).toBeGreaterThan(0);
    // Many other addresses each fail once: they evict one another, never the lock.
    for (let i = 0; i < 20_000; i++) g.failed([`ip:other-${i}`]);
    expect(g.size).toBe(10_000);
    expect(g.retryAfterMs(["ip:attacker"])).toBeGreaterThan(0);
  });
});
