// How the nats driver records a node's share of the cluster state, for the shared reconcile path
// (cluster/state-sync.ts): each key holds every node's counts, and a node rewrites its own share
// of a key (or a dead node's) in one compare-and-set. This node remembers which keys it wrote;
// the sweep's scan tells which keys name a dead node.
import type { LocalAdapter } from "../local.ts";
import type { ShareStore, StoreTransition } from "../cluster/state-sync.ts";
import { transitionsOf } from "./names.ts";
import { key, parseKey, type ChannelChange } from "./state.ts";
import type { FoundState } from "./sweeper.ts";
import type { ContributionWriter } from "./writer.ts";

/**
 * A dead node may have written a member_added and stopped before announcing it; a user who joined
 * on another node since saw a member already, and emptying the dead node's count is no transition
 * either, so without this the member would stay unknown to every socket. The add is told again
 * with its own sequence and no webhook: a node that saw it drops it as stale, a socket that knows
 * the member ignores it.
 */
function repeatedAdds(channel: string, change: ChannelChange): StoreTransition[] {
  return (change.kept ?? []).map(({ userId, userInfo, seq }) => ({
    type: "joined", channel, socketId: "", member: { userId, userInfo }, occupied: false, memberAdded: true, seq,
    subscriptionCount: change.subscriptionCount, countSeq: change.countSeq, localOnly: true,
  }));
}

export class NatsShares implements ShareStore {
  /** Keys this node wrote a contribution to, per app: what a resync or a stop must revisit. */
  private readonly touched = new Map<string, Set<string>>();
  /** Apps whose connection quota is enforced (they keep a "q" key). */
  readonly quotaApps = new Set<string>();
  /** Per dead node, per app: the keys the last sweep's scan found naming it. */
  private found: FoundState = new Map();

  constructor(
    private readonly nodeId: string, private readonly local: LocalAdapter, private readonly write: ContributionWriter,
    /** Whether a node's heartbeats are heard (again): a node back since the scan keeps its share. */
    private readonly alive: (node: string) => boolean,
  ) {}

  touch(appId: string, k: string): void {
    let keys = this.touched.get(appId);
    if (!keys) this.touched.set(appId, (keys = new Set()));
    keys.add(k);
  }

  /** What the sweep's scan found of dead nodes: sync(appId, deadNode) empties exactly these keys. */
  scanned(found: FoundState): void {
    this.found = found;
  }

  // --- ShareStore ---

  epoch(): Promise<string> {
    return this.write.epoch();
  }

  async apps(node: string): Promise<Iterable<string>> {
    if (node !== this.nodeId) return [...(this.found.get(node)?.keys() ?? [])];
    return new Set([...this.touched.keys(), ...this.local.appIds()]);
  }

  async sync(appId: string, node: string): Promise<StoreTransition[]> {
    if (node !== this.nodeId) return this.sweepApp(appId, node);
    const keys = new Set(this.touched.get(appId) ?? []);
    for (const channel of this.local.channelNames(appId)) keys.add(key(appId, "c", channel));
    for (const userId of this.local.userIds(appId)) keys.add(key(appId, "u", userId));
    if (this.quotaApps.has(appId)) keys.add(key(appId, "q", "all"));
    const transitions: StoreTransition[] = [];
    for (const k of keys) transitions.push(...await this.syncKey(appId, k));
    if (this.touched.get(appId)?.size === 0) this.touched.delete(appId);
    return transitions;
  }

  /**
   * Makes one key hold exactly this node's local share. Also for a key the sweep finds naming
   * this node although no resync would visit it: a NATS server killed right after acknowledging a
   * write can come back without it, with an older share of ours.
   */
  async syncKey(appId: string, k: string): Promise<StoreTransition[]> {
    const parsed = parseKey(k);
    if (!parsed) return [];
    if (parsed.kind === "m") {
      // A member key crediting this node (the scan found it): that member and the channel's count.
      const ck = key(appId, "c", parsed.name);
      return transitionsOf(parsed.name, await this.write.serial(ck, () => this.write.channel(appId, parsed.name, this.nodeId, [parsed.userId!])), true);
    }
    if (parsed.kind === "c") {
      const change = await this.write.serial(k, () => this.write.channel(appId, parsed.name));
      if (change.value === undefined || !(this.nodeId in change.value.n)) this.touched.get(appId)?.delete(k);
      return transitionsOf(parsed.name, change, true);
    }
    if (parsed.kind === "u") {
      const change = await this.write.serial(k, () => this.write.user(appId, parsed.name));
      if (this.local.userSocketCount(appId, parsed.name) === 0) this.touched.get(appId)?.delete(k);
      if (change.online) return [{ type: "online", userId: parsed.name }];
      return change.offline ? [{ type: "offline", userId: parsed.name }] : [];
    }
    if (parsed.kind === "q") await this.write.quota(appId);
    return [];
  }

  /**
   * Writes an empty share for a dead node in every key of the app the scan found naming it: per
   * channel, its member keys first, then the channel key (member_removed before vacated).
   */
  private async sweepApp(appId: string, node: string): Promise<StoreTransition[]> {
    const keys = this.found.get(node)?.get(appId);
    this.found.get(node)?.delete(appId);
    if (this.found.get(node)?.size === 0) this.found.delete(node);
    const channels = new Map<string, string[]>();
    const others: string[] = [];
    for (const k of keys ?? []) {
      const parsed = parseKey(k);
      if (parsed?.kind === "c" || parsed?.kind === "m") {
        const users = channels.get(parsed.name) ?? [];
        if (parsed.userId !== undefined) users.push(parsed.userId);
        channels.set(parsed.name, users);
      } else others.push(k);
    }
    const transitions: StoreTransition[] = [];
    // The scan read every key before these writes: a node that resumed meanwhile (a long pause)
    // may have written its share back already, and emptying it now would remove live sockets.
    for (const [channel, users] of channels) {
      if (this.alive(node)) return transitions;
      const change = await this.write.channel(appId, channel, node, users);
      if (change.changed) transitions.push(...transitionsOf(channel, change, true), ...repeatedAdds(channel, change));
    }
    for (const k of others) {
      if (this.alive(node)) break;
      const parsed = parseKey(k);
      if ((await this.write.counts(k, 0, node)).offline && parsed?.kind === "u") transitions.push({ type: "offline", userId: parsed.name });
    }
    return transitions;
  }
}
