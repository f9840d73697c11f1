// Subscription counts carry an order, as member events carry a sequence (presence.ts): the adapter
// answers each join and leave with the channel's new count and an order that is higher for every
// later change, cluster-wide. Counts travel the bus apart from the changes that made them, so two
// nodes' counts can cross, and a count broadcast before a socket subscribed can be held for it
// until its ack (registry.ts); comparing orders, not arrival, keeps every socket at the newest.
import { ExpiringMap } from "./expiring-map.ts";

/**
 * How long the newest order of a channel is remembered: no count arrives later than this after a
 * newer one was applied here. Measured on this node's clock, like the member log's horizon.
 */
const ORDER_HORIZON_MS = 120_000;
/** Channels remembered at most; past it the oldest goes first, which at worst lets one stale count through. */
const MAX_CHANNELS = 100_000;

/** Per node: the newest count order applied or sent for each channel. */
export class CountOrder {
  private readonly newest: ExpiringMap<number>;

  constructor(now: () => number) {
    this.newest = new ExpiringMap(MAX_CHANNELS, now);
  }

  /** False when a newer count of the channel is known here; records `seq` otherwise. 0 is unordered, always fresh. */
  fresh(key: string, seq: number | undefined): boolean {
    if (!seq || seq <= 0) return true;
    if (this.stale(key, seq)) return false;
    this.newest.set(key, seq, ORDER_HORIZON_MS);
    return true;
  }

  /** True when a count newer than `seq` was applied or sent for the channel. */
  stale(key: string, seq: number | undefined): boolean {
    return seq !== undefined && seq > 0 && seq < (this.newest.get(key) ?? 0);
  }

  /** Channels remembered (for tests of memory bounds). */
  get size(): number {
    return this.newest.size;
  }
}

/** A held count is older than the one the joining socket's own join produced: its ack already supersedes it. */
export function olderThanJoin(countSeq: number | undefined, joinSeq: number | undefined): boolean {
  return countSeq !== undefined && countSeq > 0 && joinSeq !== undefined && joinSeq > 0 && countSeq < joinSeq;
}
