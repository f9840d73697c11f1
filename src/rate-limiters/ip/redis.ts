// RATE_LIMITER_DRIVER=redis | redis-cluster: one counter per address and window in Redis, so every
// node shares the budget. Each hit is one round trip (INCR, and PEXPIRE on the first hit), bounded
// by a timeout; while Redis is away the hit is allowed and the outage is logged once.
import type { IpLimiter, IpLimitResult } from "./ip-limiter.ts";
import type { Logger } from "../../core/runtime.ts";
import { failFastRedis, type FailFastRedisSettings } from "../../redis/fail-fast.ts";

export interface RedisIpLimiterSettings extends FailFastRedisSettings {
  prefix: string;
  logger: Logger;
}

// One key, so it runs on one shard in a cluster. Returns the count and the window's time left.
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;

export async function openRedisIpLimiter(s: RedisIpLimiterSettings): Promise<IpLimiter> {
  const name = s.cluster ? "redis-cluster" : "redis";
  // While Redis is away a hit fails at once and the request is let through.
  const client = await failFastRedis(s);
  let up = true;
  let listener: ((up: boolean, detail?: string) => void) | undefined;
  const status = (now: boolean, detail?: string) => {
    if (now === up) return;
    up = now;
    if (now) s.logger.info(`rate limiter (${name}) reachable again`);
    else s.logger.warn(`rate limiter (${name}) unreachable, allowing requests until it is back: ${detail}`);
    listener?.(now, detail);
  };
  client.on("error", (error: unknown) => status(false, error instanceof Error ? error.message : String(error)));
  client.on("ready", () => status(true));
  client.defineCommand("switchboardHit", { numberOfKeys: 1, lua: HIT });
  const hit = client as unknown as { switchboardHit(key: string, windowMs: number): Promise<unknown> };
  // Wait for the first connection (bounded): commands sent before it would fail without a queue.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, s.timeoutMs);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });

  return {
    name,
    async hit(key: string, limit: number, windowMs: number): Promise<IpLimitResult> {
      try {
        const reply = await hit.switchboardHit(`${s.prefix}ratelimit:${key}`, windowMs);
        if (!Array.isArray(reply) || typeof reply[0] !== "number" || typeof reply[1] !== "number") {
          throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
        }
        status(true);
        const [used, ttl] = reply as [number, number];
        return { allowed: used <= limit, remaining: Math.max(0, limit - used), resetMs: ttl > 0 ? ttl : windowMs, limit };
      } catch (error) {
        status(false, error instanceof Error ? error.message : String(error));
        return { allowed: true, remaining: limit, resetMs: windowMs, limit };
      }
    },
    watch(fn) {
      listener = fn;
      // An outage that began before anyone watched (Redis down at start-up) is reported now.
      if (!up) fn(false, "unreachable at start-up");
    },
    async close() {
      client.disconnect();
    },
  };
}
