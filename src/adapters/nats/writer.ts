// Compare-and-set writes of one node's contribution to the nats driver's keys. A live node
// writes what its local state holds; a sweeper writes an empty contribution for a dead node.
// Writes to one key from this node are queued, so they never conflict with each other.
import { classifyChannel } from "../../core/channels.ts";
import type { LocalAdapter } from "../local.ts";
import { UNCHANGED, type NatsLink } from "./connection.ts";
import type { EpochBase } from "./epoch.ts";
import { ShareWriter } from "./members.ts";
import {
  EMPTY, applyUser, key, memberCount, memberKeys, parseKey, total, type ChannelChange, type ChannelValue, type Contribution, type UserChange,
  type UserValue,
} from "./state.ts";
import { CHANNEL, MEMBER, USER } from "./values.ts";

export class ContributionWriter {
  private readonly shares: ShareWriter;

  constructor(
    private readonly link: NatsLink, private readonly local: LocalAdapter, private readonly nodeId: string, private readonly epochs: EpochBase,
  ) {
    this.shares = new ShareWriter(link, epochs);
  }

  /** Runs `task` in the key's queue (for a local change that must precede its write). */
  serial<T>(k: string, task: () => Promise<T>): Promise<T> {
    return this.link.serial(k, task);
  }

  /**
   * Writes a node's share of a channel (a resync, a sweep, a stop): its socket count, and its
   * count in the member keys of `users`, or, without them, of every member key that this node
   * holds or that credits the node (read with one listing: for rare writes; a join or leave
   * writes one member, `socket`). The listing also checks the channel's member count: a join
   * whose write failed after reserving a place may have left it one too high.
   */
  async channel(appId: string, channel: string, node = this.nodeId, users?: Iterable<string>): Promise<ChannelChange> {
    const share: Contribution = node === this.nodeId ? this.local.contribution(appId, channel) : EMPTY;
    let listed: number | undefined;
    if (users === undefined && classifyChannel(channel).presence) {
      const differ = new Set(share.members.keys());
      const entries = await this.link.entries(memberKeys(appId, channel), MEMBER);
      listed = entries.size;
      for (const [k, { value }] of entries) {
        const userId = parseKey(k)?.userId;
        if (userId === undefined) continue;
        if ((value.n[node] ?? 0) === (share.members.get(userId)?.count ?? 0)) differ.delete(userId);
        else differ.add(userId);
      }
      users = differ;
    }
    const change = (await this.shares.write({ appId, channel, node, share, users: users ?? [] }))!;
    const members = listed === undefined ? undefined : listed + change.added.length - change.removed.length;
    if (members !== undefined && change.value && memberCount(change.value) !== members) await this.recount(appId, channel);
    return change;
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

  /**
   * Sets a channel's member count to the number of its member keys, if no write changed the
   * channel key while they were counted; true when it corrected the count. A node that stopped
   * between a member key's write and the channel key's leaves the count off by one.
   */
  async recount(appId: string, channel: string): Promise<boolean> {
    const ck = key(appId, "c", channel);
    const { value, entry } = await this.link.getJson(ck, CHANNEL);
    if (!value || !entry) return false;
    const members = (await this.link.keys(memberKeys(appId, channel))).length;
    if (memberCount(value) === members) return false;
    return this.link.cas<ChannelValue, boolean>(ck, CHANNEL, (current, _deleted, revision) => {
      if (!current || revision !== entry.revision) return { next: UNCHANGED, result: false };
      const { mc: _stale, ...rest } = current;
      return { next: members > 0 ? { ...rest, mc: members } : rest, result: true };
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

  /** The bucket's epoch id, created by the first node; a new one means NATS lost the bucket. */
  async epoch(): Promise<string> {
    return (await this.epochs.read()).id;
  }
}
