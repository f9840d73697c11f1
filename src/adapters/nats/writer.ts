// Compare-and-set writes of one node's contribution to the nats driver's keys. A live node
// writes what its local state holds; a sweeper writes an empty contribution for a dead node.
// Writes to one key from this node are queued, so they never conflict with each other.
import type { LocalAdapter } from "../local.ts";
import { UNCHANGED, type NatsLink } from "./connection.ts";
import {
  EMPTY, applyChannel, applyUser, key, overMemberLimit, total, type ChannelChange, type ChannelValue, type Contribution,
  type UserChange, type UserValue,
} from "./state.ts";
import { CHANNEL, TEXT, USER } from "./values.ts";

export class ContributionWriter {
  constructor(
    private readonly link: NatsLink, private readonly local: LocalAdapter, private readonly nodeId: string, private readonly now: () => number,
  ) {}

  /** Runs `task` in the key's queue (for a local change that must precede its write). */
  serial<T>(k: string, task: () => Promise<T>): Promise<T> {
    return this.link.serial(k, task);
  }

  /**
   * Writes a node's share of a channel. With `limit`, a new member over the presence limit makes
   * it write nothing and return null.
   */
  channel(appId: string, channel: string, node = this.nodeId, limit?: { userId: string; max: number }): Promise<ChannelChange | null> {
    const share: Contribution = node === this.nodeId ? this.local.contribution(appId, channel) : EMPTY;
    return this.link.cas<ChannelValue, ChannelChange | null>(key(appId, "c", channel), CHANNEL, (value, deleted) => {
      if (limit && overMemberLimit(value, limit.userId, limit.max)) return { next: UNCHANGED, result: null };
      const c = applyChannel(value, node, share, this.now());
      c.vacatedSince = c.occupied && deleted;
      return { next: c.changed ? c.value : UNCHANGED, result: c };
    });
  }

  /** Writes a node's count of a user's signed-in sockets ("u" key) or of its connections ("q" key). */
  counts(k: string, count: number, node = this.nodeId): Promise<UserChange> {
    return this.link.cas<UserValue, UserChange>(k, USER, (value) => {
      const c = applyUser(value, node, count);
      return { next: c.changed ? c.value : UNCHANGED, result: c };
    });
  }

  user(appId: string, userId: string): Promise<UserChange> {
    return this.counts(key(appId, "u", userId), this.local.userSocketCount(appId, userId));
  }

  /** Counts one more connection for this node unless the cluster is at `max`; false when refused. */
  admit(appId: string, max: number): Promise<boolean> {
    const own = this.local.connectionCount(appId);
    return this.link.cas<UserValue, boolean>(key(appId, "q", "all"), USER, (value) => {
      if (total(value?.n) - (value?.n[this.nodeId] ?? 0) + own + 1 > max) return { next: UNCHANGED, result: false };
      return { next: applyUser(value, this.nodeId, own + 1).value, result: true };
    });
  }

  async quota(appId: string): Promise<void> {
    const k = key(appId, "q", "all");
    await this.link.serial(k, () => this.counts(k, this.local.connectionCount(appId)));
  }

  /** The bucket's epoch, created by the first node; a new one means NATS lost the bucket. */
  epoch(): Promise<string> {
    const fresh = globalThis.crypto.randomUUID();
    return this.link.cas<string, string>("epoch", TEXT, (value) => (value ? { next: UNCHANGED, result: value } : { next: fresh, result: fresh }));
  }
}
