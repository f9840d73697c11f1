// The redis webhook queue against a real Redis: a lease that expires (its node died mid-attempt)
// counts as an attempt, and the first attempt's time is stamped when the job is first leased, so
// the retry window also covers a job whose attempts kill the node that makes them.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { WebhookJob } from "../../../src/webhooks/job.ts";
import type { Delivery, Worker } from "../../../src/webhooks/queues/queue.ts";
import { encodeEnvelope, RedisQueue } from "../../../src/webhooks/queues/redis.ts";
import { reachable, requireService, uniquePrefix } from "../../adapters/cluster.ts";
import { globalTimers, recordingLogger } from "../harness.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const prefixes: string[] = [];

const job: WebhookJob = {
  id: "j1", appId: "1", target: { url: "http://h.example/" }, headers: {}, body: "{}", events: 1, channels: [], createdAt: 0,
};

/** A queue as one node runs it, with a short lease. */
function node(prefix: string): RedisQueue {
  return new RedisQueue(new Redis("redis://127.0.0.1:6379"), prefix, globalTimers, recordingLogger(), "redis", {
    concurrency: 1, visibilityMs: 300, deadLetterLimit: 10,
  });
}

/** Starts `queue` with a worker that reports its first delivery, then answers with `answer`. */
function firstDelivery(queue: RedisQueue, answer: Worker): Promise<Delivery> {
  return new Promise((resolve) => queue.start((d) => (resolve(d), answer(d))));
}

afterAll(async () => {
  if (!redisUp) return;
  const redis = new Redis("redis://127.0.0.1:6379");
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  }
  redis.disconnect();
});

describe.skipIf(!redisUp)("RedisQueue leases", () => {
  it("count an expired lease as an attempt, with the first attempt's time from the first lease", async () => {
    const prefix = uniquePrefix("webhook-lease");
    prefixes.push(prefix);
    const dying = node(prefix);
    const taken = firstDelivery(dying, () => new Promise(() => {})); // never settles: the node dies mid-attempt
    await dying.push(job);
    const first = await taken;
    expect(first.attempt).toBe(1);
    expect(first.firstAttemptAt).toEqual(expect.any(Number));
    await dying.stop(Date.now());

    const survivor = node(prefix);
    const again = await firstDelivery(survivor, async () => ({ kind: "done" }));
    expect(again).toEqual({ job, attempt: 2, firstAttemptAt: first.firstAttemptAt });
    await survivor.stop(Date.now() + 5000);
    // Settled against the lease it was handed: nothing is left to come back.
    const redis = new Redis("redis://127.0.0.1:6379");
    expect([await redis.zcard(`${prefix}{webhooks}:leased`), await redis.llen(`${prefix}{webhooks}:ready`)]).toEqual([0, 0]);
    redis.disconnect();
  });

  it("leave an envelope an older version wrote (job first) as it was, and still deliver it", async () => {
    const prefix = uniquePrefix("webhook-legacy");
    prefixes.push(prefix);
    const redis = new Redis("redis://127.0.0.1:6379");
    await redis.rpush(`${prefix}{webhooks}:ready`, JSON.stringify({ job, attempt: 1 }));
    redis.disconnect();
    const queue = node(prefix);
    expect(await firstDelivery(queue, async () => ({ kind: "done" }))).toEqual({ job, attempt: 1, firstAttemptAt: undefined });
    await queue.stop(Date.now() + 1000);
  });

  it("write envelopes head first, as the scripts read them", () => {
    expect(encodeEnvelope({ job, attempt: 3, first: 7 })).toBe(`{"attempt":3,"first":7,"job":${JSON.stringify(job)}}`);
    expect(encodeEnvelope({ job, attempt: 1 })).toBe(`{"attempt":1,"job":${JSON.stringify(job)}}`);
  });
});
