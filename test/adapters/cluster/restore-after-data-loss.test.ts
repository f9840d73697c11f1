// Two redis adapters in this process on a real Redis whose data is lost (the prefix's keys are
// deleted): while the nodes re-register, a leave can find a channel empty that another node has
// not re-registered yet, and announce it vacated. The node that re-registers it afterwards must
// announce it occupied again; a channel that stayed occupied is no news.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisAdapter } from "../../../src/adapters/redis.ts";
import type { ClusterAdapter } from "../../../src/adapters/cluster/adapter.ts";
import type { ClusterNode, ClusterTransition } from "../../../src/core/adapter.ts";
import type { Logger, TimerHandle, Timers } from "../../../src/core/runtime.ts";
import { globalTimers } from "../../helpers/harness.ts";
import { eventually, reachable, requireService, uniquePrefix } from "../cluster.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const available = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");

/** Real timers whose interval callbacks (the adapter's ticks) can be held back. */
class GatedTimers implements Timers {
  held = false;
  now = globalTimers.now;
  setInterval = (fn: () => void, ms: number): TimerHandle => globalTimers.setInterval(() => { if (!this.held) fn(); }, ms);
  clearInterval = globalTimers.clearInterval;
  setTimeout = globalTimers.setTimeout;
  clearTimeout = globalTimers.clearTimeout;
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

function recordingNode(): ClusterNode & { transitions: ClusterTransition[] } {
  const transitions: ClusterTransition[] = [];
  return { transitions, receive: () => {}, transition: (_app, t) => void transitions.push(t), syncMembers: () => {}, backendState: () => {} };
}

describe.skipIf(!available)("redis adapter: re-registering after Redis lost its data", () => {
  const prefix = uniquePrefix("restore");
  const redis = new Redis(REDIS_URL);
  const timersA = new GatedTimers();
  const nodeA = recordingNode();
  const nodeB = recordingNode();
  let A: ClusterAdapter;
  let B: ClusterAdapter;
  beforeAll(async () => {
    A = createRedisAdapter({ url: REDIS_URL, prefix, nodeTimeoutMs: 600, timers: timersA, logger: quiet });
    B = createRedisAdapter({ url: REDIS_URL, prefix, nodeTimeoutMs: 600, timers: new GatedTimers(), logger: quiet });
    await Promise.all([A.start(nodeA), B.start(nodeB)]);
  });
  afterAll(async () => {
    timersA.held = false;
    await Promise.all([A?.stop(), B?.stop()]);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it("announces occupied again for a channel a leave vacated while it was not re-registered, and nothing for one that stayed occupied", async () => {
    expect((await A.join("app", "private-vacated", "a1")).occupied).toBe(true);
    expect((await B.join("app", "private-vacated", "b1")).occupied).toBe(false);
    await A.join("app", "private-stayed", "a1");
    await B.join("app", "private-stayed", "b1");

    timersA.held = true; // A is slow to notice
    const keys = await redis.keys(`${prefix}*`);
    await redis.del(...keys);
    // B notices (its heartbeat finds it unregistered) and re-registers its subscriptions first.
    await eventually(async () => (await redis.hexists(`${prefix}{app}:s:private-vacated`, "b1")) === 1, 10_000, "B to re-register");
    // A leave now finds only B's socket: the cluster is told the channel was vacated, wrongly.
    expect((await B.leave("app", "private-vacated", "b1")).vacated).toBe(true);

    timersA.held = false;
    await eventually(async () => (await redis.hexists(`${prefix}{app}:s:private-stayed`, "a1")) === 1, 10_000, "A to re-register");
    await eventually(() => nodeA.transitions.length > 0, 5_000, "A to announce the correction");
    expect(nodeA.transitions).toEqual([
      expect.objectContaining({ type: "joined", channel: "private-vacated", socketId: "a1", occupied: true, remoteOnly: true }),
    ]);
    // A later live join of the channel is ordinary again: not occupied (a1 is there).
    expect((await B.join("app", "private-vacated", "b2")).occupied).toBe(false);
  });
});
