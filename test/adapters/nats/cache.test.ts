// The nats adapter's reads on a real NATS: the cache_miss webhook is claimed once per channel
// cluster-wide (until an event is cached or the channel is vacated), cached events past their
// lifetime are deleted from the bucket, not kept forever, and the console's channel page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsAdapter, type NatsAdapter } from "../../../src/adapters/nats.ts";
import type { ClusterNode } from "../../../src/core/adapter.ts";
import type { Logger } from "../../../src/core/runtime.ts";
import { globalTimers } from "../../helpers/harness.ts";
import { expectCacheMissClaims } from "../cache-miss-claims.ts";
import { expectChannelPage } from "../channel-page-check.ts";
import { uniquePrefix } from "../cluster.ts";
import { natsForFile } from "../nats.ts";

const nats = await natsForFile();
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const node: ClusterNode = { receive: () => {}, transition: () => {}, syncMembers: () => {}, backendState: () => {} };

describe.skipIf(!nats.available)("nats adapter: cache channels", () => {
  let A: NatsAdapter;
  let B: NatsAdapter;
  beforeAll(async () => {
    const options = { servers: [nats.url()], prefix: uniquePrefix("natscache"), nodeTimeoutMs: 5000, timers: globalTimers, logger: quiet };
    A = createNatsAdapter(options);
    B = createNatsAdapter(options);
    await Promise.all([A.start(node), B.start(node)]);
  });
  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop()]);
  });

  it("claims cache_miss once per channel until an event is cached or the channel is vacated", async () => {
    await expectCacheMissClaims(A, B, "app");
  });

  it("lists the first occupied channels by name, past the server's own, with the total", async () => {
    await expectChannelPage(A, B, "app-page");
  });

  it("deletes cached events past their lifetime and keeps the live ones", async () => {
    await A.cacheSet("app2", "cache-short", "e", "short", 1);
    await B.cacheSet("app2", "cache-long", "e", "long", 60);
    const reads = (A as unknown as { reads: { dropExpiredCache(): Promise<number> } }).reads;
    expect(await reads.dropExpiredCache()).toBe(0);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await reads.dropExpiredCache()).toBe(1);
    expect(await B.cacheGet("app2", "cache-short")).toBeNull();
    expect(await B.cacheGet("app2", "cache-long")).toMatchObject({ event: "e", data: "long" });
    expect(await reads.dropExpiredCache()).toBe(0);
  });
});
