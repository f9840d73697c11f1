// Compare-and-set writes of one node's contribution to the nats driver's keys. A live node
// writes what its local state holds; a sweeper writes an empty contribution for a dead node.
// Writes to one key from this node are queued, so they never conflict with each other.
import { classifyChannel } from "../../core/channels.ts";
import type { LocalAdapter } from "../local.ts";
import { UNCHANGED, type NatsLink } from "./connection.ts";
import { ShareWriter } from "./share.ts";
import type { OrphanRemoval } from "./strays.ts";
import {
  EMPTY, applyUser, key, memberKeys, memberOfKey, total, type ChannelChange, type Contribution, type UserChange, type UserValue,
} from "./state.ts";
import { MEMBER, TEXT, USER } from "./values.ts";

export class ContributionWriter {
  private readonly shares: ShareWriter;

  constructor(
    private readonly link: NatsLink, private readonly local: LocalAdapter, private readonly nodeId: string, now: () => number,
  ) {
    this.shares = new ShareWriter(link, now);
  }

  /** Runs `task` in the key's queue (for a local change that must precede its write). */
  serial<T>(k: string, task: () => Promise<T>): Promise<T> {
    return this.link.serial(k, task);
  }

  /**
   * Writes a node's whole share of a channel (a resync, a sweep, a stop): its socket count, and
   * its count in every member key that it holds or that still credits it. Reads every member key
   * of the channel, so it is for rare writes; a join or leave writes one member (`socket`).
   */
  async channel(appId: string, channel: string, node = this.nodeId): Promise<ChannelChange> {
    const share: Contribution = node === this.nodeId ? this.local.contribution(appId, channel) : EMPTY;
    const users = new Set<string>();
    const listed = new Set<string>();
    if (classifyChannel(channel).presence) for (const [k, { value }] of await this.link.entries(memberKeys(appId, channel), MEMBER)) {
      const userId = memberOfKey(k)?.userId;
      if (userId === undefined) continue;
      listed.add(userId);
      if ((value.n[node] ?? 0) !== (share.members.get(userId)?.count ?? 0)) users.add(userId);
    }
    for (const userId of share.members.keys()) if (!listed.has(userId)) users.add(userId);
    return (await this.shares.write({ appId, channel, node, share, users }))!;
  }

  /**
   * Writes this node's socket count of a channel and its count of one user's sockets, after a
   * socket of that user joined or left. With `maxMembers`, a new member over the presence limit
   * makes it write nothing and return null.
   */
  socket(appId: string, channel: string, userId?: string, maxMembers?: number): Promise<ChannelChange | null> {
    const share = this.local.contribution(appId, channel, userId);
    return this.shares.write({ appId, channel, node: this.nodeId, share, users: userId === undefined ? [] : [userId], maxMembers });
  }

  /** Sequences and announces a removal its node left as a tombstone (nats/strays.ts); undefined when claimed or undone meanwhile. */
  orphanRemoval(orphan: OrphanRemoval): Promise<ChannelChange | undefined> {
    return this.shares.orphanRemoval(orphan.appId, orphan.channel, orphan.userId, orphan.tombstone);
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
