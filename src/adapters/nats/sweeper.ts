// The scan of the bucket that finds the state of nodes gone silent on the bus (their hellos,
// cluster/bus-peers.ts, are the heartbeats); the shared sweep (cluster/state-sync.ts) removes it.
// Every surviving node may sweep; the CAS in each write lets only one of them see, and announce,
// each member_removed / vacated / offline.
import { classifyChannel } from "../../core/channels.ts";
import type { Logger } from "../../core/runtime.ts";
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

const PURGE_EVERY_MS = 10 * 60_000;

/** What the sweeper asks of its adapter. */
export interface SweeperHooks {
  /** False stops a sweep in progress (NATS lost, node stopping). */
  active(): boolean;
  /** A sweep failed (it runs again on the next death or resync). */
  failed(error: unknown): void;
  /** Tells every node that this one swept `node` (if it was only paused, it writes its state back). */
  tellSwept(node: string): void;
  /** Rewrites this node's own share of a key from its local state (NatsShares.syncKey). */
  syncOwn(appId: string, k: string): Promise<void>;
  /** Removes the dead nodes' state the scan found (the shared sweep). */
  sweepFound(found: FoundState): Promise<void>;
  /** Sets a channel's member count from its member keys (ContributionWriter.recount). */
  recount(appId: string, channel: string): Promise<void>;
  /** Periodic cleanup beside the purge: cached events past their lifetime (NatsReads.dropExpiredCache). */
  dropExpired(): Promise<number>;
}

/** The other nodes this one hears on the bus (cluster/bus-peers.ts): a peer is alive until pruned. */
export interface Peers {
  has(node: string): boolean;
  known(): Iterable<string>;
  /** Back from an outage for less than the reconnect grace: a live node may still be in its back-off. */
  settling(): boolean;
}

export class Sweeper {
  /** When the first full sweep after coming up (or a pause) is due; 0 once it ran. */
  private firstSweepAt = 0;
  /** Peers found silent since the last sweep. */
  private died = false;
  private lastPurge = 0;

  constructor(
    private readonly nodeId: string,
    private readonly link: NatsLink,
    private readonly timeoutMs: number,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly peers: Peers,
    private readonly hooks: SweeperHooks,
  ) {}

  /** This node and every node heard from within the timeout, in a stable order. */
  liveNodes(): string[] {
    return [this.nodeId, ...this.peers.known()].sort();
  }

  alive(nodeId: string): boolean {
    return nodeId === this.nodeId || this.peers.has(nodeId);
  }

  /**
   * Connected: the full sweep comes once every live node has said hello on the bus, a node
   * timeout from now, and after an outage not before the peers have settled (a node still in its
   * back-off is not taken for dead).
   */
  connected(): void {
    this.lastPurge = this.now();
    this.firstSweepAt = this.now() + this.timeoutMs;
  }

  /** This node was paused: the full sweep comes again once the others' hellos were heard anew. */
  stalled(): void {
    this.firstSweepAt = this.now() + this.timeoutMs;
  }

  /** Peers went silent for a node timeout: their state is swept on the next tick. */
  gone(nodes: string[]): void {
    for (const id of nodes) this.logger.info(`nats adapter: node ${id} went silent on the bus; removing its sockets`);
    this.died = true;
  }

  /** One beat: sweep when a node died (or once after coming up), and purge now and then. */
  async tick(): Promise<void> {
    const now = this.now();
    if (this.died || (this.firstSweepAt > 0 && now >= this.firstSweepAt && !this.peers.settling())) {
      this.died = false;
      await this.sweep();
    }
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
      for (const id of swept) this.hooks.tellSwept(id);
    }
    this.firstSweepAt = 0;
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
