// The one reconcile path of every cluster driver (redis, redis-cluster, upstash, nats). After an
// outage, a sweep of this node or a backend that lost its data, the resync makes the backend hold
// exactly this node's share of the cluster state; after a node died, the sweep removes its share.
// Both announce each transition that is news exactly once. A driver supplies only a ShareStore:
// how its backend records a node's share and rewrites it (Lua scripts over per-node items on the
// Redis family, compare-and-set of per-node counts in each key on NATS).
import type { ClusterNode, ClusterTransition, JoinResult, LeaveResult } from "../../core/adapter.ts";
import { classifyChannel } from "../../core/channels.ts";
import type { LocalAdapter } from "../local.ts";
import { LeftAway, localOnly, type LeftAwayContext } from "./left-away.ts";
import type { StoreReads } from "./transport.ts";

/** A transition a store write made; `vacatedSince`: a channel announced vacated while the data was being refilled. */
export type StoreTransition = ClusterTransition & { vacatedSince?: boolean };

export interface ShareStore {
  /** Registers this node with the backend and returns the backend's data epoch (new: it lost its data). */
  epoch(): Promise<string>;
  /** The apps in which the backend may hold `node`'s share (for this node, also every app it serves). */
  apps(node: string): Promise<Iterable<string>>;
  /**
   * Makes the backend hold `node`'s share of the app: this node's local state, or nothing for
   * another (dead) node. Returns the transitions the writes made, each decided once cluster-wide.
   */
  sync(appId: string, node: string): Promise<StoreTransition[]>;
}

export interface StateSyncContext {
  announce(appId: string, transition: ClusterTransition): void;
  syncMembers: NonNullable<ClusterNode["syncMembers"]>;
  /** False stops a resync or sweep in progress (the node stops or lost the backend). */
  active(): boolean;
}

/**
 * What this node decided alone while the backend was away, and whether the backend since lost
 * its data. Right after a data loss every node re-registers what the cluster knew already: only
 * what joined while away is news then, and a channel announced vacated meanwhile.
 */
class OutageNews {
  /** "appId\nchannel\nuserId" (userId "" for the channel's occupancy) and "appId\n\nuserId" for sign-ins. */
  private readonly joined = new Set<string>();
  lostData = false;

  record(appId: string, channel: string, userId: string, added: boolean): void {
    const k = `${appId}\n${channel}\n${userId}`;
    if (added) this.joined.add(k);
    else this.joined.delete(k);
  }

  /** What a resync's transition tells the cluster: all of it, or after a data loss what is news. */
  filter(appId: string, t: StoreTransition): ClusterTransition[] {
    const { vacatedSince, ...transition } = t;
    if (!this.lostData || vacatedSince) return [transition];
    const away = (channel: string, userId: string) => this.joined.has(`${appId}\n${channel}\n${userId}`);
    if (t.type === "online") return away("", t.userId) ? [transition] : [];
    if (t.type !== "joined") return [];
    const { vacatedSince: _refilled, ...joined } = t;
    const occupied = joined.occupied && away(joined.channel, "");
    const member = joined.memberAdded ? joined.member : undefined;
    if (member && away(joined.channel, member.userId)) return [{ ...joined, occupied }];
    // A member the cluster knew before the loss: another node's catch-up may have found it missing
    // while this node was re-registering, and told its sockets it left. The frame repairs that.
    const known: ClusterTransition[] = member ? [{ ...joined, occupied: false, localOnly: true }] : [];
    return occupied ? [{ ...joined, occupied, memberAdded: false }, ...known] : known;
  }

  settled(): void {
    this.joined.clear();
    this.lostData = false;
  }
}

export class StateSync {
  private readonly news = new OutageNews();
  private readonly leftAway = new LeftAway();
  private epoch?: string;
  private peerCatchUp = false;

  constructor(
    private readonly nodeId: string, private readonly store: ShareStore, private readonly local: LocalAdapter, private readonly ctx: StateSyncContext,
  ) {}

  /** A join decided by local state alone (backend away): its flags are this node's view only. */
  joinedAway<T extends JoinResult>(appId: string, channel: string, result: T, userId?: string): T & { localOnly: true } {
    if (result.ok && result.occupied) this.news.record(appId, channel, "", true);
    if (result.ok && result.memberAdded && userId !== undefined) this.news.record(appId, channel, userId, true);
    return localOnly(result);
  }

  /** A leave decided by local state alone: confirmed against the store later (left-away.ts). */
  leftAwayFrom<T extends LeaveResult>(appId: string, channel: string, result: T, userId?: string): T & { localOnly: true } {
    if (result.vacated) this.news.record(appId, channel, "", false);
    if (result.memberRemoved && userId !== undefined) this.news.record(appId, channel, userId, false);
    this.leftAway.record(appId, channel, result, userId);
    return localOnly(result);
  }

  /** A sign-in (online) or sign-out (offline) decided by local state alone. */
  signedAway(appId: string, userId: string, online: boolean): void {
    this.news.record(appId, "", userId, online);
  }

  /** Makes the backend hold exactly this node's state; true when the backend had lost its data. */
  async resync(): Promise<boolean> {
    const epoch = await this.store.epoch();
    if (this.epoch !== undefined && epoch !== this.epoch) this.news.lostData = true;
    this.epoch = epoch;
    for (const appId of await this.store.apps(this.nodeId)) {
      if (!this.ctx.active()) break;
      // This node's own clients saw these transitions while away; the other nodes learn them now.
      this.announce(appId, await this.store.sync(appId, this.nodeId), true);
    }
    return this.news.lostData;
  }

  /**
   * On a graceful stop, after the core left every channel: releases whatever the backend still
   * holds of this node (a failed cleanup). Not cut short: the node is stopping on purpose.
   */
  async release(): Promise<void> {
    for (const appId of await this.store.apps(this.nodeId)) this.announce(appId, await this.store.sync(appId, this.nodeId), true);
  }

  /**
   * After an outage, member events published meanwhile never reached this node. For each presence
   * channel with local sockets the core gets the backend's members and tells each socket what it
   * missed, ordered by the transitions' sequences (core/presence.ts). Without `removals` (the
   * backend lost its data and refills node by node) only additions count. False when cut short.
   */
  async catchUp(removals: boolean, reads: Pick<StoreReads, "members">): Promise<boolean> {
    for (const appId of this.local.appIds()) {
      for (const channel of this.local.channelNames(appId)) {
        if (!classifyChannel(channel).presence) continue;
        if (!this.ctx.active()) return false;
        this.ctx.syncMembers(appId, channel, await reads.members(appId, channel), removals);
      }
    }
    return true;
  }

  /**
   * A peer fell silent for a node timeout. A transition it decided in the store just before it
   * died (a member key written, a leave script run) may never have been announced, and no sweep
   * can tell: the store already holds the outcome. The next tick's catch-up reads it from there.
   */
  peersLost(): void {
    this.peerCatchUp = true;
  }

  /** The catch-up after peersLost(), once; again on a later tick if it failed or was cut short. */
  async afterPeersLost(reads: Pick<StoreReads, "members">): Promise<void> {
    // While the store refills after a data loss a missing member may just not be back yet.
    if (this.peerCatchUp && await this.catchUp(!this.news.lostData, reads)) this.peerCatchUp = false;
  }

  /** Removes a dead node's share of every app, announcing each transition (one sweeper sees each). */
  async sweep(node: string): Promise<void> {
    for (const appId of await this.store.apps(node)) {
      if (!this.ctx.active()) return;
      for (const t of await this.store.sync(appId, node)) this.ctx.announce(appId, stripped(t));
    }
  }

  /** Transitions a live write made beside its own (leftovers of an outage): news filtered like a resync's. */
  announce(appId: string, transitions: StoreTransition[], remoteOnly: boolean): void {
    for (const t of transitions) {
      for (const news of this.news.filter(appId, t)) this.ctx.announce(appId, remoteOnly ? { ...news, remoteOnly } : news);
    }
  }

  /**
   * After a resync and its catch-up: the leaves decided while away are confirmed once the store
   * is trusted again, and what was decided away is no longer news.
   */
  async settle(lostData: boolean, catchUp: boolean, reads: LeftAwayContext["reads"]): Promise<void> {
    await this.leftAway.settle(lostData, catchUp, { reads, announce: this.ctx.announce, active: this.ctx.active });
    this.news.settled();
  }
}

function stripped(t: StoreTransition): ClusterTransition {
  const { vacatedSince: _refilled, ...transition } = t;
  return transition;
}
