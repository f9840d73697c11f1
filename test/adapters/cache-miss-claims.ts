// The cache_miss claim every cluster driver must make (protocol §3.8): once per channel across the
// cluster, again after an event is cached or the channel is vacated, never for a vacant channel.
// Two adapters of one cluster play two nodes.
import { expect } from "vitest";
import type { Adapter } from "../../src/core/adapter.ts";

export async function expectCacheMissClaims(A: Adapter, B: Adapter, appId: string): Promise<void> {
  await A.join(appId, "cache-x", "a1");
  await B.join(appId, "cache-x", "b1");
  expect(await A.claimCacheMiss(appId, "cache-x")).toBe(true);
  expect(await B.claimCacheMiss(appId, "cache-x")).toBe(false);
  await B.cacheSet(appId, "cache-x", "e", "d", 60);
  expect(await A.claimCacheMiss(appId, "cache-x")).toBe(true);
  await A.leave(appId, "cache-x", "a1");
  expect(await B.claimCacheMiss(appId, "cache-x")).toBe(false);
  await B.leave(appId, "cache-x", "b1");
  await A.join(appId, "cache-x", "a2");
  expect(await A.claimCacheMiss(appId, "cache-x")).toBe(true);
  // A channel nobody holds claims nothing (its subscriber left before the claim).
  expect(await B.claimCacheMiss(appId, "cache-empty")).toBe(false);
}
