// The "upstash" adapter driver: @upstash/redis over its REST API, for edge runtimes without TCP.
// Scripts run with EVALSHA/EVAL and the bus is one SSE subscription. No node:* imports here.
import { Redis } from "@upstash/redis";
import type { TimerHandle, Timers } from "../core/runtime.ts";
import { ClusterAdapter } from "./cluster/adapter.ts";
import type { ClusterBackend } from "./cluster/backend.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type ClusterOptions, type TransportEvents } from "./cluster/transport.ts";
import { SCRIPTS, type ScriptName } from "./cluster/scripts.ts";

/** How often the backend is pinged; REST has no connection whose loss we could observe. */
const PING_MS = 1000;
/** Bus self-probe: the SSE stream can end silently (the client only logs it), so we echo-test it. */
const PROBE_EVERY_MS = 2000;
const PROBE_DEADLINE_MS = 5000;

type Subscriber = ReturnType<Redis["subscribe"]>;

/** What fetch throws when a request's AbortSignal.timeout fires. */
function timedOut(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

export class UpstashBackend implements ClusterBackend {
  private readonly redis: Redis;
  private readonly shas = new Map<ScriptName, string>();
  private sub?: Subscriber;
  private ticker?: TimerHandle;
  private up = false;
  private subscribed = false;
  private probeSent = 0;
  private probeSeen = 0;
  private readonly probeId = `probe:${Math.random().toString(36).slice(2)}`;
  private busy = false;
  private closed = false;
  private events?: TransportEvents;
  /** Takes the bus down now (a request outlived its deadline), not at the next ping. */
  private markDown: (reason: string) => void = () => {};

  constructor(url: string, token: string, private readonly timers: Timers, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
    // No retries and no auto-pipelining: while the backend is away a command must fail at once so
    // the adapter answers from local state; raw results because the scripts return plain values.
    // Every request (ping, scripts, publish) gets its own deadline: a backend that accepts the
    // request but never answers is an outage too. It must be a function: the client turns an
    // already-aborted static signal into a silent "Aborted" result instead of an error. The bus
    // stream passes its own signal, so it is not cut at the deadline.
    this.redis = new Redis({
      url, token, retry: false, enableTelemetry: false, enableAutoPipelining: false, automaticDeserialization: false,
      signal: () => AbortSignal.timeout(requestTimeoutMs),
    });
  }

  open(busChannel: string, events: TransportEvents): void {
    this.events = events;
    // The client splits SSE lines at commas (channel = text between the 1st and 2nd comma), and
    // each channel is one HTTP stream, so the bus is a single comma-free channel.
    if (busChannel.includes(",")) throw new Error(`upstash adapter: bus channel ${busChannel} must not contain a comma`);
    const down = (reason: string) => {
      this.dropSubscription();
      if (!this.up) return;
      this.up = false;
      events.down(reason);
    };
    this.markDown = down;
    const check = async () => {
      try {
        await this.redis.ping();
      } catch (error) {
        return down(error instanceof Error ? error.message : String(error));
      }
      if (!this.sub) return this.subscribe(busChannel, events);
      if (!this.subscribed) return;
      const now = this.timers.now();
      if (this.probeSent > this.probeSeen && now - this.probeSent > PROBE_DEADLINE_MS) return down("bus stream ended");
      if (this.probeSent <= this.probeSeen && now - this.probeSent >= PROBE_EVERY_MS) {
        this.probeSent = now;
        // No "m" field: every adapter on the bus ignores it, whatever its driver.
        // A failed probe shows as a missing echo, which takes the bus down at the deadline.
        await this.redis.publish(busChannel, JSON.stringify({ o: this.probeId })).catch((error) => events.failed("publishing the bus probe", error));
      }
      if (!this.up) {
        this.up = true;
        events.up();
      }
    };
    // Every request in check() has a deadline, so `busy` always clears: a hung backend cannot
    // stop the pings that notice it is back.
    const tick = () => {
      if (this.busy || this.closed) return;
      this.busy = true;
      void check().finally(() => (this.busy = false));
    };
    this.ticker = this.timers.setInterval(tick, PING_MS);
    tick();
  }

  private subscribe(busChannel: string, events: TransportEvents): void {
    const sub = this.redis.subscribe([busChannel]);
    this.sub = sub;
    this.subscribed = false;
    this.probeSent = this.probeSeen = 0;
    sub.on("subscribe", () => {
      if (this.sub === sub) this.subscribed = true;
    });
    sub.on("error", (error: unknown) => {
      if (this.sub !== sub) return;
      // The next ping subscribes again; the probe notices if that keeps failing.
      events.failed("the bus stream", error);
      this.dropSubscription();
    });
    sub.on("message", ({ channel, message }: { channel: string; message: unknown }) => {
      if (this.sub !== sub || channel !== busChannel) return;
      const payload = String(message);
      if (payload.includes(this.probeId)) {
        this.probeSeen = this.timers.now();
        return;
      }
      events.message(payload);
    });
  }

  /** Aborts the stream; the next successful ping subscribes again. */
  private dropSubscription(): void {
    const sub = this.sub;
    this.sub = undefined;
    this.subscribed = false;
    sub?.unsubscribe().catch((error: unknown) => this.events?.failed("closing the bus stream", error));
  }

  async run(script: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown> {
    const { lua } = SCRIPTS[script];
    let sha = this.shas.get(script);
    if (!sha) {
      sha = await this.watch(this.redis.scriptLoad(lua));
      this.shas.set(script, sha);
    }
    try {
      return await this.watch(this.redis.evalsha(sha, keys, args));
    } catch (error) {
      // A flushed or restarted Redis forgets scripts; EVAL also loads it for next time.
      if (!(error instanceof Error && error.message.includes("NOSCRIPT"))) throw error;
      return this.watch(this.redis.eval(lua, keys, args));
    }
  }

  async publish(busChannel: string, payload: string): Promise<void> {
    await this.watch(this.redis.publish(busChannel, payload));
  }

  /** A request past its deadline is an outage: down at once; the pings bring the bus back up. */
  private async watch<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      if (timedOut(error)) this.markDown(`no answer within the request deadline (${(error as Error).message})`);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.up = false;
    if (this.ticker !== undefined) this.timers.clearInterval(this.ticker);
    this.dropSubscription();
  }
}

export type UpstashAdapterOptions = ClusterOptions & { url: string; token: string };

export function createUpstashAdapter(options: UpstashAdapterOptions): ClusterAdapter {
  return new ClusterAdapter("upstash", new UpstashBackend(options.url, options.token, options.timers, options.requestTimeoutMs), options);
}
