// Two redis adapters sharing a prefix on a real Redis, as two nodes would, with no servers around
// them: the setup of the adapter tests that need a second node. Registers its own beforeAll and
// afterAll (which deletes the prefix's keys); call it inside the describe.
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import type { ClusterAdapter } from "../../../src/adapters/cluster/adapter.ts";
import { createRedisAdapter } from "../../../src/adapters/redis.ts";
import type { ClusterNode } from "../../../src/core/adapter.ts";
import type { Logger } from "../../../src/core/runtime.ts";
import { globalTimers } from "../../helpers/harness.ts";
import { reachable, requireService, uniquePrefix } from "../cluster.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
export const redisAvailable = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const node: ClusterNode = { receive: () => {}, transition: () => {}, syncMembers: () => {}, backendState: () => {} };

export interface TwoRedisNodes {
  A: ClusterAdapter;
  B: ClusterAdapter;
  /** A plain client, to look at the keys the adapters wrote. */
  redis: Redis;
  prefix: string;
}

export function twoRedisNodes(label: string): TwoRedisNodes {
  const pair = { redis: new Redis(REDIS_URL, { lazyConnect: true }), prefix: uniquePrefix(label) } as TwoRedisNodes;
  beforeAll(async () => {
    const options = { url: REDIS_URL, prefix: pair.prefix, nodeTimeoutMs: 5000, timers: globalTimers, logger: quiet };
    pair.A = createRedisAdapter(options);
    pair.B = createRedisAdapter(options);
    await Promise.all([pair.A.start(node), pair.B.start(node)]);
  });
  afterAll(async () => {
    await Promise.all([pair.A?.stop(), pair.B?.stop()]);
    const keys = await pair.redis.keys(`${pair.prefix}*`);
    if (keys.length) await pair.redis.del(...keys);
    pair.redis.disconnect();
  });
  return pair;
}
