import { reconnectDelay } from "../../core/backoff.ts";
import type { Cluster, Redis } from "ioredis";
import type { Logger, Timers } from "../../core/runtime.ts";
import type { WebhookJob } from "../job.ts";
import { parseEnvelope, type DeadLetter, type Delivery, type Envelope, type Outcome, type QueueContext, type WebhookQueue, type Worker } from "./queue.ts";

// QUEUE_DRIVER=redis: a durable queue every node works. A job is leased for the visibility timeout
// while one node sends it; if that node dies the lease expires and any node takes the job again
// (at-least-once). Retries wait in a sorted set keyed by due time, so they survive crashes too.
// All keys share the {webhooks} hash tag, so the same scripts run on Redis Cluster (redis-cluster.ts).
//
//   <prefix>{webhooks}:ready    list of envelopes, FIFO
//   <prefix>{webhooks}:delayed  zset envelope → due time (ms)
//   <prefix>{webhooks}:leased   zset envelope → lease expiry (ms)
//   <prefix>{webhooks}:dead     list of dead letters, newest first, trimmed to WEBHOOK_DEAD_LETTER_LIMIT
//
// Times come from Redis's own clock (TIME), so nodes with skewed clocks agree on due and expiry.
//
// A lease that expires counts as an attempt, and a job's first attempt time is stamped when it is
// first leased: a job whose attempt kills the node (a crash, an OOM) goes back with its attempt
// count raised, and the retry window (retry.ts) ends it as a dead letter instead of leasing it
// forever. The scripts rewrite an envelope's head only, never re-encode the job (Lua's cjson would
// turn an empty array into an object), so envelopes are written head first (encodeEnvelope).

const NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)";
/**
 * bump(e, now, n): the envelope with its attempt raised by n and `first` set to now if missing.
 * An envelope not written head first (by an older version) is returned unchanged.
 */
const BUMP = `local function bump(e, now, n)
  local a, rest = string.match(e, '^{"attempt":(%d+),(.*)$')
  if not a then return e end
  if string.sub(rest, 1, 8) ~= '"first":' then rest = '"first":' .. string.format('%d', now) .. ',' .. rest end
  return '{"attempt":' .. string.format('%d', tonumber(a) + n) .. ',' .. rest
end`;

const SCRIPTS = {
  /**
   * Moves due retries and expired leases (as one more attempt) to the front, then leases up to
   * ARGV[2] ready jobs, each stamped with its first attempt time; returns them as leased.
   */
  webhookTake: `${NOW}
${BUMP}
for _, e in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[3], e) redis.call('LPUSH', KEYS[1], bump(e, now, 1)) end
for _, e in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
  redis.call('ZREM', KEYS[2], e) redis.call('RPUSH', KEYS[1], e) end
local taken = {}
for i = 1, tonumber(ARGV[2]) do
  local e = redis.call('LPOP', KEYS[1])
  if not e then break end
  e = bump(e, now, 0)
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), e)
  taken[i] = e
end
return taken`,
  /** Ends a lease with a retry after ARGV[3] ms; a lease another node has retaken is left alone. */
  webhookRetry: `${NOW}
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 then redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2]) end
return 1`,
  /** Ends a lease (or stores a never-attempted job, ARGV[1] = '') as a dead letter. */
  webhookDead: `if ARGV[1] ~= '' then redis.call('ZREM', KEYS[3], ARGV[1]) end
redis.call('LPUSH', KEYS[4], ARGV[2])
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[3]) - 1)
return 1`,
} as const;

type ScriptCalls = { [K in keyof typeof SCRIPTS]: (k1: string, k2: string, k3: string, k4: string, ...args: (string | number)[]) => Promise<unknown> };
type Client = (Redis | Cluster) & ScriptCalls;

/** Idle workers look for jobs pushed by other nodes this often; a push on this node wakes them at once. */
const POLL_MS = 100;
/** Back-off for the take loop while Redis is unreachable. */
const DOWN_RETRY_MS = 1000;
/** Failed takes tolerated while first connecting before it is reported (≈ 5 s). */
const STARTUP_MISSES = 5;

export class RedisQueue implements WebhookQueue {
  private readonly keys: [string, string, string, string];
  private readonly redis: Client;
  private running = 0;
  private stopping = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  private down = false;
  private everUp = false;
  private failures = 0;
  private lastError = "";

  constructor(
    client: Redis | Cluster,
    prefix: string,
    private readonly timers: Timers,
    private readonly logger: Logger,
    private readonly label: string,
    private readonly opts: { concurrency: number; visibilityMs: number; deadLetterLimit: number },
  ) {
    const base = `${prefix}{webhooks}:`;
    this.keys = [`${base}ready`, `${base}delayed`, `${base}leased`, `${base}dead`];
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 4, lua });
    // Errors repeat on every reconnect attempt: remember the last, the take loop logs state changes.
    client.on("error", (error: Error) => (this.lastError = error.message));
    this.redis = client as Client;
  }

  async push(job: WebhookJob): Promise<void> {
    await this.redis.rpush(this.keys[0], encodeEnvelope({ job, attempt: 1 }));
    this.wake?.();
  }

  start(worker: Worker): void {
    this.loop = this.work(worker);
  }

  private async work(worker: Worker): Promise<void> {
    while (!this.stopping) {
      if (this.running >= this.opts.concurrency) {
        await this.sleep(POLL_MS);
        continue;
      }
      let taken: unknown;
      try {
        // One round trip leases as many jobs as there are free workers.
        taken = await this.redis.webhookTake(...this.keys, this.opts.visibilityMs, this.opts.concurrency - this.running);
        this.setDown(false);
      } catch (error) {
        this.setDown(true, error);
        await this.sleep(DOWN_RETRY_MS);
        continue;
      }
      if (!Array.isArray(taken) || taken.length === 0) {
        await this.sleep(POLL_MS);
        continue;
      }
      for (const raw of taken) if (typeof raw === "string") void this.run(worker, raw);
    }
  }

  /** Logs state changes; at start-up the client is still connecting, so a few misses are not news. */
  private setDown(down: boolean, error?: unknown): void {
    if (!down) {
      this.failures = 0;
      this.everUp = true;
      if (this.down) this.logger.info(`${this.label} webhook queue reachable again`);
      this.down = false;
      return;
    }
    this.failures++;
    if (this.down || (!this.everUp && this.failures < STARTUP_MISSES)) return;
    this.down = true;
    this.logger.warn(`${this.label} webhook queue unreachable (${this.lastError || (error as Error)?.message}); retrying every ${DOWN_RETRY_MS} ms`);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        this.timers.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async run(worker: Worker, raw: string): Promise<void> {
    this.running++;
    try {
      const envelope = parseEnvelope(raw);
      if (!envelope) {
        this.logger.warn(`${this.label} webhook queue: dropping a malformed entry`, raw.slice(0, 200));
        await this.redis.webhookDead(...this.keys, raw, JSON.stringify({ raw, reason: "malformed", at: this.timers.now() }), this.opts.deadLetterLimit);
        return;
      }
      const delivery: Delivery = { job: envelope.job, attempt: envelope.attempt, firstAttemptAt: envelope.first };
      await this.settle(raw, delivery, await worker(delivery));
    } catch (error) {
      // Redis failed while settling: the lease expires and another attempt follows (at-least-once).
      this.logger.warn(`${this.label} webhook queue: could not record an outcome; the job will be retried after its lease`, error);
    } finally {
      this.running--;
      this.wake?.();
    }
  }

  private async settle(raw: string, d: Delivery, outcome: Outcome): Promise<void> {
    if (outcome.kind === "done") await this.redis.zrem(this.keys[2], raw);
    else if (outcome.kind === "retry") {
      const next: Envelope = { job: d.job, attempt: d.attempt + 1, first: outcome.firstAttemptAt };
      await this.redis.webhookRetry(...this.keys, raw, encodeEnvelope(next), outcome.delayMs);
    } else {
      const letter: DeadLetter = { job: d.job, reason: outcome.reason, at: this.timers.now() };
      await this.redis.webhookDead(...this.keys, raw, JSON.stringify(letter), this.opts.deadLetterLimit);
    }
  }

  async deadLetter(job: WebhookJob, reason: string): Promise<void> {
    const letter: DeadLetter = { job, reason, at: this.timers.now() };
    await this.redis.webhookDead(...this.keys, "", JSON.stringify(letter), this.opts.deadLetterLimit);
  }

  async depth(): Promise<number> {
    const [ready, delayed] = await Promise.all([this.redis.llen(this.keys[0]), this.redis.zcard(this.keys[1])]);
    return ready + delayed;
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const items = await this.redis.lrange(this.keys[3], 0, limit - 1);
    return items.flatMap((s) => {
      try {
        return [JSON.parse(s) as DeadLetter];
      } catch {
        return []; // a foreign entry in our list: not ours to show
      }
    });
  }

  async stop(deadline: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    // Attempts under way may finish; jobs still waiting stay in Redis for the other nodes.
    while (this.running > 0 && this.timers.now() < deadline) await this.sleep(20);
    if (this.running > 0) this.logger.info(`${this.label} webhook queue: ${this.running} attempts unfinished at shutdown; their leases expire and another node retries them`);
    this.redis.disconnect();
  }
}

/** Head first (attempt, then first), as the scripts' bump() reads it. */
export function encodeEnvelope(e: Envelope): string {
  const head = e.first === undefined ? { attempt: e.attempt } : { attempt: e.attempt, first: e.first };
  return JSON.stringify({ ...head, job: e.job });
}

export async function create(ctx: QueueContext): Promise<WebhookQueue> {
  const { Redis } = await import("ioredis");
  const c = ctx.config;
  // Fail fast while Redis is away (the pipeline keeps jobs until it is back); never hang a caller.
  const client = new Redis(c.redisUrl!, {
    retryStrategy: reconnectDelay, connectTimeout: 5000, commandTimeout: 5000, enableOfflineQueue: false, maxRetriesPerRequest: 0,
  });
  return new RedisQueue(client, c.redisPrefix, ctx.timers, ctx.logger, "redis", {
    concurrency: c.webhookConcurrency, visibilityMs: c.webhookVisibilityTimeoutMs, deadLetterLimit: c.webhookDeadLetterLimit,
  });
}
