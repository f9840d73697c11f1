// Keeping the bucket in line with this node's local state: which keys hold our contribution,
// what joined while NATS was away, and the resync that rewrites every such key after an outage,
// a sweep of us, or NATS losing its data, announcing to the other nodes what changed meanwhile.
import type { LocalAdapter } from "../local.ts";
import { announceChange, type Announcer } from "./names.ts";
import { key, parseKey, type ChannelChange } from "./state.ts";
import type { ContributionWriter } from "./writer.ts";

export class Reconciler {
  /** Keys this node wrote a contribution to, per app: what a resync or a stop must revisit. */
  private readonly touched = new Map<string, Set<string>>();
  /** "key\nuserId" joined while NATS was away: news for the other nodes even if NATS lost its data. */
  private readonly addedOffline = new Set<string>();
  /** Apps whose connection quota is enforced (they keep a "q" key). */
  readonly quotaApps = new Set<string>();
  private epoch?: string;
  private lostData = false;

  constructor(
    private readonly nodeId: string,
    private readonly local: LocalAdapter,
    private readonly write: ContributionWriter,
    private readonly announcer: Announcer,
  ) {}

  touch(appId: string, k: string): void {
    let keys = this.touched.get(appId);
    if (!keys) this.touched.set(appId, (keys = new Set()));
    keys.add(k);
  }

  /** Something joined (a member, a first subscriber, a sign-in) while NATS was unreachable. */
  addedWhileAway(k: string, userId = ""): void {
    this.addedOffline.add(`${k}\n${userId}`);
  }

  /**
   * Announces a channel change to the other nodes. Right after NATS lost its data, re-adding is
   * no news (the cluster knew it before), except what joined while NATS was away, and a channel
   * announced vacated meanwhile (a leave while the nodes re-registered found it empty): its
   * occupancy and members are news again.
   */
  announce(appId: string, channel: string, change: ChannelChange, remoteOnly: boolean, counts: boolean): void {
    const k = key(appId, "c", channel);
    const lost = this.lostData && !change.vacatedSince;
    const keep = (userId: string) => !lost || this.addedOffline.has(`${k}\n${userId}`);
    announceChange(this.announcer, appId, channel, {
      ...change,
      occupied: change.occupied && keep(""),
      vacated: change.vacated && !lost,
      added: change.added.filter((a) => keep(a.userId)),
      removed: lost ? [] : change.removed,
    }, remoteOnly, counts && !lost);
  }

  /** Rewrites every key of every app from local state; true when NATS had lost its data. */
  async resync(active: () => boolean): Promise<boolean> {
    const fresh = await this.write.epoch();
    this.lostData = this.epoch !== undefined && fresh !== this.epoch;
    this.epoch = fresh;
    for (const appId of new Set([...this.touched.keys(), ...this.local.appIds()])) {
      if (active()) await this.syncApp(appId, active);
    }
    return this.lostData;
  }

  /** The resync, and anything that depended on its view of the outage, is complete. */
  settled(): void {
    this.addedOffline.clear();
    this.lostData = false;
  }

  /** On a graceful stop, after the core left everything: releases leftovers and the counts. */
  async release(): Promise<void> {
    for (const appId of [...this.touched.keys()]) await this.syncApp(appId, () => true);
  }

  /** Makes every key of the app hold exactly this node's local state, announcing what changed. */
  private async syncApp(appId: string, active: () => boolean): Promise<void> {
    const keys = new Set(this.touched.get(appId) ?? []);
    for (const channel of this.local.channelNames(appId)) keys.add(key(appId, "c", channel));
    for (const userId of this.local.userIds(appId)) keys.add(key(appId, "u", userId));
    if (this.quotaApps.has(appId)) keys.add(key(appId, "q", "all"));
    for (const k of keys) {
      if (active()) await this.syncKey(appId, k);
    }
    if (this.touched.get(appId)?.size === 0) this.touched.delete(appId);
  }

  /**
   * Makes one key hold exactly this node's local share, announcing what changed. Also for a key
   * the sweep finds naming this node although no resync would visit it: a NATS server killed
   * right after acknowledging a write can come back without it, with an older share of ours.
   */
  async syncKey(appId: string, k: string): Promise<void> {
    const parsed = parseKey(k);
    if (!parsed) return;
    if (parsed.kind === "c") {
      const change = (await this.write.serial(k, () => this.write.channel(appId, parsed.name)))!;
      this.announce(appId, parsed.name, change, true, true);
      if (change.value === undefined || !(this.nodeId in change.value.n)) this.touched.get(appId)?.delete(k);
    } else if (parsed.kind === "u") {
      const change = await this.write.serial(k, () => this.write.user(appId, parsed.name));
      const news = (change.online && (!this.lostData || this.addedOffline.has(`${k}\n`))) || (change.offline && !this.lostData);
      if (news) this.announcer.transition(appId, { type: change.online ? "online" : "offline", userId: parsed.name, remoteOnly: true });
      if (this.local.userSocketCount(appId, parsed.name) === 0) this.touched.get(appId)?.delete(k);
    } else if (parsed.kind === "q") {
      await this.write.quota(appId);
    }
  }
}
