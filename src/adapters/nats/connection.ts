// One nats.ws connection for the nats driver: core subjects for the bus and heartbeats, a
// JetStream KV bucket for cluster state, and compare-and-set updates on it. nats.ws reconnects
// by itself (with our back-off); this reports up/down so the adapter can fall back and resync.
import type { JetStreamClient, KV, KvEntry, NatsConnection, QueuedIterator, Subscription } from "nats.ws";
import { backoff } from "../../core/backoff.ts";
import type { Logger, Timers } from "../../core/runtime.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, type TransportEvents } from "../cluster/transport.ts";
import { drainListing } from "./listing.ts";
import type { Listed, Shape } from "./values.ts";

export type NatsEvents = Omit<TransportEvents, "message">;

/** Marker a mutation returns to leave the key as it is. */
export const UNCHANGED = Symbol("unchanged");

export interface Mutation<V, R> {
  next: V | undefined | typeof UNCHANGED;
  result: R;
}

const CAS_ATTEMPTS = 200;
/** JetStream's error code for a write whose expected last sequence (revision) is no longer current. */
const WRONG_LAST_SEQUENCE = 10071;
/**
 * Lifetime of an entry of the publishes bucket (idempotency keys). Each entry carries its own
 * expiry (nats/idempotency.ts); this only bounds what the bucket keeps, so it is the longest
 * window IDEMPOTENCY_WINDOW_SECONDS allows.
 */
const PUBLISHES_BUCKET_TTL_MS = 3_600_000;

/** The driver's buckets: cluster state, and the idempotency keys of REST publishes. */
export type Bucket = "state" | "publishes";

/** Unanswered pings before nats.ws drops a connection as stale (and reconnects). */
const MAX_PINGS_OUT = 2;

/** A request that got no answer within its deadline: nats.ws's NatsError code, and our stalled listing's. */
function timedOut(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "TIMEOUT";
}

/** Exponential back-off with jitter: 100 ms doubling to 5 s. */
function natsReconnectDelay(attempt: number): number {
  return backoff(attempt, { baseMs: 100, maxMs: 5000, jitter: true });
}

async function loadNats(): Promise<typeof import("nats.ws")> {
  // nats.ws needs a WebSocket global, which Node 20 lacks (Deno and Bun have one); it must be in
  // place before nats.ws is loaded.
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "undefined") {
    const ws = "ws";
    (globalThis as { WebSocket?: unknown }).WebSocket = (await import(ws)).WebSocket;
  }
  return import("nats.ws");
}

export class NatsLink {
  private nc?: NatsConnection;
  private kvView?: KV;
  private js?: JetStreamClient;
  /** Runs once the bucket is bound, before up is reported (reading the data epoch). */
  private prepare?: () => Promise<unknown>;
  private publishesView?: KV;
  /** One flush confirms every publish made before it: publishes in one turn share it. */
  private flushing?: Promise<void>;
  private lib?: typeof import("nats.ws");
  private attempts = 0;
  private events?: NatsEvents;
  private closed = false;
  private reconnecting = false;
  /** A bucket bind is in flight (ready()): the probes while hung must not pile up. */
  private readying = false;
  private readonly codec = new TextEncoder();
  private readonly decoder = new TextDecoder();
  /** The subjects subscribed after open (the apps' buses); nats.ws renews them after a reconnect. */
  private readonly subs = new Map<string, Subscription>();
  /** Mutations of one key from this node run one after another, so they never conflict with each other. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly servers: string[],
    private readonly bucket: string,
    private readonly logger: Logger,
    private readonly timers: Timers,
    private readonly name: string,
    /** The deadline of every request (CLUSTER_REQUEST_TIMEOUT_MS), and the ping interval. */
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  /** Connects in the background; `events.up` fires once the connection and the bucket are usable. */
  open(subscriptions: Record<string, (payload: string) => void>, events: NatsEvents, prepare?: () => Promise<unknown>): void {
    this.events = events;
    this.prepare = prepare;
    void (async () => {
      this.lib = await loadNats();
      const nc = await this.lib.connect({
        servers: this.servers,
        name: this.name,
        reconnect: true,
        maxReconnectAttempts: -1,
        waitOnFirstConnect: true,
        reconnectDelayHandler: () => natsReconnectDelay(this.attempts++),
        timeout: this.requestTimeoutMs,
        // A server that stopped answering keeps its socket open: nats.ws's pings notice it (and
        // reconnect) within a few deadlines, where the default two-minute interval would not.
        pingInterval: this.requestTimeoutMs,
        maxPingOut: MAX_PINGS_OUT,
      });
      if (this.closed) return void nc.close();
      this.nc = nc;
      for (const [subject, handler] of Object.entries(subscriptions)) this.listen(nc, subject, handler);
      void this.watchStatus(nc, events);
      await this.ready(events);
    })().catch((error) => {
      if (!this.closed) this.logger.error(`nats adapter: cannot connect to NATS (${this.servers.join(", ")})`, error);
    });
  }

  private listen(nc: NatsConnection, subject: string, handler: (payload: string) => void): Subscription {
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        // A subscription error (a permissions violation, say) ends the subscription: say so.
        if (err) this.events?.failed(`the subscription to ${subject}`, err);
        else handler(this.decoder.decode(msg.data));
      },
    });
  }

  /**
   * Subscribes to a core subject (once; again is only a check) and resolves once the server has
   * the subscription: it answers a PING after every SUB sent before it.
   */
  async subscribe(subject: string, handler: (payload: string) => void): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) throw new Error("NATS is not connected");
    const sub = this.subs.get(subject);
    if (!sub || sub.isClosed()) this.subs.set(subject, this.listen(nc, subject, handler));
    await this.published();
  }

  unsubscribe(subject: string): void {
    this.subs.get(subject)?.unsubscribe();
    this.subs.delete(subject);
  }

  private async watchStatus(nc: NatsConnection, events: NatsEvents): Promise<void> {
    for await (const status of nc.status()) {
      if (this.closed) return;
      if (status.type === "disconnect") {
        this.reconnecting = true;
        this.kvView = undefined;
        this.publishesView = undefined;
        events.down(`disconnected from ${String(status.data)}`);
      } else if (status.type === "reconnect") {
        this.reconnecting = false;
        this.attempts = 0;
        await this.ready(events);
      }
    }
  }

  /** Binds (or re-creates, after a server lost its store) the bucket, then reports up. */
  async ready(events: NatsEvents): Promise<boolean> {
    if (!this.nc || this.closed) return false;
    this.readying = true;
    try {
      // The JetStream context's timeout is the deadline of every KV get, put, delete and listing.
      const timeout = this.requestTimeoutMs;
      const js = this.nc.jetstream({ timeout });
      this.kvView = await js.views.kv(this.bucket, { history: 1, timeout });
      this.publishesView = await js.views.kv(`${this.bucket}_p`, { history: 1, ttl: PUBLISHES_BUCKET_TTL_MS, timeout });
      this.js = js;
      // Before any write on this binding: a bucket NATS lost and created again has a new epoch.
      await this.prepare?.();
      events.up();
      return true;
    } catch (error) {
      events.down(`JetStream key-value bucket ${this.bucket} unavailable (${(error as Error).message}; is JetStream enabled?)`);
      return false;
    } finally {
      this.readying = false;
    }
  }

  /**
   * Each tick while down on a live connection: the bucket was unavailable (JetStream still
   * starting) or a request outlived its deadline (a hung server). Binding the bucket is itself a
   * request with the deadline, so it is the probe: it answers once the server does.
   */
  retry(): void {
    if (this.events && !this.kvView && !this.readying && this.nc && !this.nc.isClosed() && !this.reconnecting) void this.ready(this.events);
  }

  /** Runs a KV request; one that outlived its deadline takes the node down like a lost connection. */
  private async watch<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (timedOut(error) && this.kvView && !this.closed) {
        this.kvView = undefined;
        this.events?.down(`no answer from NATS within the request deadline (${(error as Error).message})`);
      }
      throw error;
    }
  }

  get connected(): boolean {
    return this.kvView !== undefined && this.nc !== undefined && !this.nc.isClosed();
  }

  private get kv(): KV {
    return this.view("state");
  }

  private view(bucket: Bucket): KV {
    const view = bucket === "state" ? this.kvView : this.publishesView;
    if (!view) throw new Error("NATS is not connected");
    return view;
  }

  /** Sends on a core subject; throws while NATS is away (nothing would be sent). */
  publish(subject: string, payload: string): void {
    if (!this.nc || this.nc.isClosed()) throw new Error("NATS is not connected");
    this.nc.publish(subject, this.codec.encode(payload));
  }

  /**
   * Resolves once the server has taken everything published so far: core NATS has no per-message
   * acknowledgement, but the server answers a PING after it has routed every message before it.
   */
  published(): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return Promise.reject(new Error("NATS is not connected"));
    return (this.flushing ??= Promise.resolve().then(() => {
      this.flushing = undefined;
      return nc.flush();
    }));
  }

  /** The key's value, checked against `shape`; a value of another shape fails, naming the key. */
  async getJson<V>(key: string, shape: Shape<V>, bucket: Bucket = "state"): Promise<{ value: V | undefined; entry: KvEntry | null }> {
    const entry = await this.watch(() => this.view(bucket).get(key));
    if (!entry || entry.operation !== "PUT") return { value: undefined, entry };
    return { value: this.parse(key, entry.value, shape), entry };
  }

  private parse<V>(key: string, bytes: Uint8Array, shape: Shape<V>): V {
    const text = this.decoder.decode(bytes);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!shape.is(value)) {
      throw new Error(`key ${key} of bucket ${this.bucket} holds ${text.length > 200 ? `${text.slice(0, 200)}…` : text}, not ${shape.name}`);
    }
    return value;
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.watch(() => this.kv.put(key, this.codec.encode(JSON.stringify(value))));
  }

  /** Deletes the key if it is still at `revision`; false when someone wrote it since. */
  async deleteAt(key: string, revision: number): Promise<boolean> {
    try {
      await this.watch(() => this.kv.delete(key, { previousSeq: revision }));
      return true;
    } catch (error) {
      if ((error as { api_error?: { err_code?: number } }).api_error?.err_code === WRONG_LAST_SEQUENCE) return false;
      throw error;
    }
  }

  /** Drops the delete markers that vacated channels and departed users leave behind. */
  async purgeDeletes(olderThanMs: number): Promise<void> {
    // On the bucket implementation, not in nats.ws's KV type.
    await this.watch(() => (this.kv as KV & { purgeDeletes(olderMillis: number): Promise<unknown> }).purgeDeletes(olderThanMs));
  }

  async keys(filter: string): Promise<string[]> {
    const out: string[] = [];
    const keys = await this.watch(() => this.kv.keys(filter));
    await this.watch(() => drainListing(keys, (k) => out.push(k), this.timers, this.requestTimeoutMs, this.bucket));
    return out;
  }

  /**
   * The current values of the keys matching `filter`, streamed by one consumer rather than one
   * get per key (a 10,000-member presence channel is 10,000 keys). A key written while the
   * listing runs may show its value before or after that write.
   */
  async entries<V>(filter: string, shape: Shape<V>): Promise<Map<string, Listed<V>>> {
    const out = new Map<string, Listed<V>>();
    let initialized = false;
    let watcher: QueuedIterator<KvEntry> | undefined;
    // Called once the initial values are queued: possibly before watch() returned. Deletes are
    // delivered and skipped below: with nats.ws's ignoreDeletes a listing whose last entries are
    // delete markers never reports that it is complete.
    const done = () => {
      initialized = true;
      watcher?.stop();
    };
    watcher = await this.watch(() => this.kv.watch({ key: filter, initializedFn: done }));
    if (initialized) watcher.stop();
    await this.watch(() => drainListing(watcher, (entry) => {
      if (entry.operation === "PUT") out.set(entry.key, { value: this.parse(entry.key, entry.value, shape), revision: entry.revision });
      else out.delete(entry.key);
    }, this.timers, this.requestTimeoutMs, this.bucket));
    return out;
  }

  /** Runs `task` after every earlier task for the same key on this node has finished. */
  serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    // Whether the previous task failed is its caller's business; this one only waits for it.
    const run = previous.then(task, task);
    this.queues.set(key, run);
    const done = () => {
      if (this.queues.get(key) === run) this.queues.delete(key);
    };
    run.then(done, done);
    return run;
  }

  /**
   * Reads the key, lets `fn` compute the new value, and writes it only if nobody wrote in
   * between (retrying with the fresh value otherwise). `fn` must be pure: it may run many times.
   * It is told whether the key was deleted (and not purged since, see purgeDeletes), and the
   * key's revision (0: none).
   */
  async cas<V, R>(
    key: string, shape: Shape<V>, fn: (current: V | undefined, deleted: boolean, revision: number) => Mutation<V, R>, bucket: Bucket = "state",
  ): Promise<R> {
    return (await this.casAt(key, shape, fn, bucket)).result;
  }

  /** cas, also giving the revision of its write (or, when it wrote nothing, the key's revision as read). */
  async casAt<V, R>(
    key: string, shape: Shape<V>, fn: (current: V | undefined, deleted: boolean, revision: number) => Mutation<V, R>, bucket: Bucket = "state",
  ): Promise<{ result: R; revision: number }> {
    const kv = this.view(bucket);
    for (let attempt = 0; ; attempt++) {
      const { value, entry } = await this.getJson(key, shape, bucket);
      const live = entry !== null && entry.operation === "PUT";
      // A delete marker: the key held a value that was deleted (a vacated channel), not never set.
      const { next, result } = fn(value, entry !== null && !live, entry?.revision ?? 0);
      if (next === UNCHANGED || (next === undefined && !live)) return { result, revision: entry?.revision ?? 0 };
      try {
        const revision = next === undefined
          ? await this.deleteRevision(key, entry!.revision)
          : await this.watch(() => kv.put(key, this.codec.encode(JSON.stringify(next)), { previousSeq: entry?.revision ?? 0 }));
        return { result, revision };
      } catch (error) {
        const code = (error as { api_error?: { err_code?: number } }).api_error?.err_code;
        if (code !== WRONG_LAST_SEQUENCE || attempt >= CAS_ATTEMPTS) throw error;
        await new Promise((r) => this.timers.setTimeout(() => r(undefined), Math.random() * Math.min(50, 2 + attempt * 2)));
      }
    }
  }

  /**
   * Deletes a key of the state bucket at `revision` and returns the delete marker's revision:
   * nats.ws's kv.delete drops the publish acknowledgement that carries it, so this publishes the
   * marker itself, as the KV protocol defines it (subject "$KV.<bucket>.<key>", a KV-Operation header).
   */
  private async deleteRevision(key: string, revision: number): Promise<number> {
    const js = this.js;
    if (!js || !this.lib || !this.kvView) throw new Error("NATS is not connected");
    const h = this.lib.headers();
    h.set("KV-Operation", "DEL");
    h.set("Nats-Expected-Last-Subject-Sequence", `${revision}`);
    return (await this.watch(() => js.publish(`$KV.${this.bucket}.${key}`, this.lib!.Empty, { headers: h }))).seq;
  }

  /** The bucket's last revision: every write up to it is in a listing started after this answer. */
  async lastRevision(): Promise<number> {
    return (await this.watch(() => this.kv.status())).streamInfo.state.last_seq;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.kvView = undefined;
    this.publishesView = undefined;
    this.js = undefined;
    const nc = this.nc;
    this.nc = undefined;
    if (!nc || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch (error) {
      // Draining flushes what we published last (the "bye" heartbeat); closing without it only
      // means the other nodes notice our exit by the heartbeat timeout instead.
      this.logger.warn(`nats adapter: draining the connection failed (${(error as Error).message}); closing it`);
      await nc.close().catch((closeError: unknown) => this.logger.warn("nats adapter: closing the connection failed", closeError));
    }
  }
}
