// Liveness of the other nodes (heartbeats on a core subject) and the scan of the bucket that finds
// the state of nodes that stopped heartbeating; the shared sweep (cluster/state-sync.ts) removes
// it. Every surviving node may sweep; the CAS in each write lets only one of them see, and
// announce, each member_removed / vacated / offline.
import { classifyChannel } from "../../core/channels.ts";
import { parseJsonObject } from "../../core/frames.ts";
import type { Logger } from "../../core/runtime.ts";
import { RECONNECT_GRACE_MS } from "../cluster/bus-peers.ts";
import { Rerun } from "../cluster/rerun.ts";
import type { NatsLink } from "./connection.ts";
import { key, memberCount, nodesIn, parseKey } from "./state.ts";
import { CHANNEL, MEMBER, USER, type Shape } from "./values.ts";

/** The scan reads every kind of key in one listing; each is checked against its own shape after. */
const ANY: Shape<unknown> = { name: "any value", is: (_value): _value is unknown => true };

/** Per dead node, per app: the keys that name it. */
export type FoundState = Map<string, Map<string, Set<string>>>;

/** Per presence channel key: the member count it holds, and how many member keys the scan found. */
type Tally = Map<string, { appId: string; channel: string; count?: number; members: number }>;

interface Heartbeat {
  id: string;
  /**
   * hello: a node came up and wants everyone's heartbeat now; bye: a node left cleanly; swept:
   * `node`'s state was removed (a node that was only paused hears it and re-registers).
   */
  t?: "hello" | "bye" | "swept";
  node?: string;
}

const PURGE_EVERY_MS = 10 * 60_000;

/** What the sweeper asks of its adapter. */
export interface SweeperHooks {
  /** False stops a sweep in progress (NATS lost, node stopping). */
  active(): boolean;
  /** A sweep failed (it runs again on the next death or resync). */
  failed(error: unknown): void;
  /** Another node swept this one's state: it must write it back and catch its sockets up. */
  sweptHere(): void;
  /** Rewrites this node's own share of a key from its local state (NatsShares.syncKey). */
  syncOwn(appId: string, k: string): Promise<void>;
  /** Removes the dead nodes' state the scan found (the shared sweep). */
  sweepFound(found: FoundState): Promise<void>;
  /** Sets a channel's member count from its member keys (ContributionWriter.recount). */
  recount(appId: string, channel: string): Promise<void>;
  /** Periodic cleanup beside the purge: cached events past their lifetime (NatsReads.dropExpiredCache). */
  dropExpired(): Promise<number>;
}

export class Sweeper {
  private readonly lastSeen = new Map<string, number>();
  /** When this node last came online: it sweeps only after it has heard a full timeout of heartbeats. */
  private upSince = 0;
  private sweptSinceUp = false;
  /** Until then nobody is judged dead: after a NATS outage a live node may still be in its reconnect back-off. */
  private graceUntil = 0;
  private lastPurge = 0;

  constructor(
    private readonly nodeId: string,
    private readonly link: NatsLink,
    private readonly subject: string,
    private readonly timeoutMs: number,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly hooks: SweeperHooks,
  ) {}

  /** This node and every node heard from within the timeout, in a stable order. */
  liveNodes(): string[] {
    return [this.nodeId, ...this.lastSeen.keys()].sort();
  }

  alive(nodeId: string): boolean {
    return nodeId === this.nodeId || this.lastSeen.has(nodeId);
  }

  heartbeat(type?: Heartbeat["t"], node?: string): void {
    const beat: Heartbeat = type ? { id: this.nodeId, t: type } : { id: this.nodeId };
    if (node !== undefined) beat.node = node;
    this.link.publish(this.subject, JSON.stringify(beat));
  }

  /**
   * (Re)connected: nobody could heartbeat to us meanwhile, so every known node gets a fresh
   * timeout, at least the reconnect grace. A chaos run saw a node swept 3 s after a NATS restart
   * (its node timeout) while it was still in its back-off: its sockets' members were announced
   * as gone, and came back 6 s later.
   */
  connected(): void {
    this.lastPurge = this.now();
    this.graceUntil = this.now() + Math.max(this.timeoutMs, RECONNECT_GRACE_MS);
    this.restartClocks();
  }

  /**
   * This node was paused (SIGSTOP, a starved event loop): the heartbeats the others sent meanwhile
   * are still unread, so their silence is ours, and judging them now would sweep live nodes.
   */
  stalled(): void {
    this.restartClocks();
  }

  private restartClocks(): void {
    const now = this.now();
    this.upSince = now;
    this.sweptSinceUp = false;
    for (const id of this.lastSeen.keys()) this.lastSeen.set(id, now);
    this.heartbeat("hello");
  }

  onHeartbeat(payload: string, online: boolean): void {
    // Anything else on the subject (a foreign publisher) is not a heartbeat, and not ours to log.
    const beat = (parseJsonObject(payload) ?? {}) as Partial<Heartbeat>;
    if (typeof beat.id !== "string" || beat.id === this.nodeId) return;
    if (beat.t === "bye") {
      this.lastSeen.delete(beat.id);
      return;
    }
    this.lastSeen.set(beat.id, this.now());
    if (beat.t === "swept" && beat.node === this.nodeId) {
      this.logger.warn(`nats adapter: node ${beat.id} swept this node's state (it missed our heartbeats); re-registering`);
      this.hooks.sweptHere();
    }
    if (beat.t === "hello" && online) this.heartbeat();
  }

  /** One beat: heartbeat, expire silent nodes, and sweep when one died (or once after coming up). */
  async tick(): Promise<void> {
    this.heartbeat();
    const now = this.now();
    if (now < this.graceUntil) return;
    let died = false;
    for (const [id, seen] of this.lastSeen) {
      if (now - seen <= this.timeoutMs) continue;
      this.lastSeen.delete(id);
      died = true;
      this.logger.info(`nats adapter: node ${id} stopped sending heartbeats; removing its sockets`);
    }
    if (died || (!this.sweptSinceUp && now - this.upSince >= this.timeoutMs)) await this.sweep();
    // Every vacated channel leaves a delete marker; without a purge the bucket grows with every
    // channel name ever used. Any node may purge; markers younger than the window stay.
    if (now - this.lastPurge >= PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.link.purgeDeletes(PURGE_EVERY_MS);
      const dropped = await this.hooks.dropExpired();
      if (dropped > 0) this.logger.debug(`nats adapter: dropped ${dropped} expired cached event(s)`);
    }
  }

  private readonly sweeps = new Rerun(async () => {
    const found: FoundState = new Map();
    const swept = new Set<string>();
    const tally: Tally = new Map();
    try {
      // One consumer streams every value: a get per key made a 10,000-member channel 10,000 reads.
      for (const [k, { value }] of await this.link.entries(">", ANY)) {
        if (!this.hooks.active()) return false;
        await this.scanKey(k, value, found, tally);
      }
      for (const id of found.keys()) swept.add(id);
      await this.hooks.sweepFound(found);
      // After the sweep, which emptied the dead nodes' member keys: a member count that disagreed
      // with the member keys at the scan (a node stopped between its two writes) is set again.
      for (const [ck, { appId, channel, count, members }] of tally) {
        if (!this.hooks.active()) return false;
        if (count !== undefined && count !== members) {
          this.logger.debug(`nats adapter: channel key ${ck} counts ${count} member(s), its member keys ${members}; recounting`);
          await this.hooks.recount(appId, channel);
        }
      }
    } finally {
      // A swept node that was only paused has no other way to learn it lost its state.
      for (const id of swept) this.heartbeat("swept", id);
    }
    this.sweptSinceUp = true;
    return this.hooks.active();
  }, (error) => this.hooks.failed(error));

  sweep(): Promise<void> {
    return this.sweeps.run();
  }

  idle(): Promise<void> {
    return this.sweeps.idle();
  }

  private async scanKey(k: string, listed: unknown, found: FoundState, tally: Tally): Promise<void> {
    const parsed = parseKey(k);
    if (!parsed || parsed.kind === "k") return;
    const shape = parsed.kind === "c" ? CHANNEL : parsed.kind === "m" ? MEMBER : USER;
    if (!shape.is(listed)) throw new Error(`key ${k} holds ${JSON.stringify(listed)?.slice(0, 200)}, not ${shape.name}`);
    const value = listed;
    if (value && (parsed.kind === "c" || parsed.kind === "m") && classifyChannel(parsed.name).presence) {
      const ck = key(parsed.appId, "c", parsed.name);
      const entry = tally.get(ck) ?? { appId: parsed.appId, channel: parsed.name, members: 0 };
      if (parsed.kind === "c") entry.count = memberCount(value);
      else entry.members++;
      tally.set(ck, entry);
    }
    const nodes = nodesIn(value);
    // Our own share is checked too (a write NATS lost when it was killed); unchanged, it costs a read.
    if (nodes.has(this.nodeId)) await this.hooks.syncOwn(parsed.appId, k);
    for (const dead of nodes) {
      if (this.alive(dead)) continue;
      let apps = found.get(dead);
      if (!apps) found.set(dead, (apps = new Map()));
      let keys = apps.get(parsed.appId);
      if (!keys) apps.set(parsed.appId, (keys = new Set()));
      keys.add(k);
    }
  }
}
