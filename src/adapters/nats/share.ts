// Writes one node's share of a channel: the member keys whose count for the node changed, then
// the channel key (nats/members.ts has the order of those writes and why). A join or leave
// passes the one user whose sockets it changed; a resync or a sweep passes every user the node
// holds or the bucket still credits to it.
import { UNCHANGED, type NatsLink } from "./connection.ts";
import { applyMember, isMember, stampMember, type MemberStep, type MemberValue } from "./members.ts";
import {
  applyShare, key, memberKey, reservePlace, sequenceRemoval, total, type ChannelChange, type ChannelStep, type ChannelValue,
  type Contribution,
} from "./state.ts";
import { CHANNEL, MEMBER, type Listed } from "./values.ts";

/** Member keys written at once by a full share write (a sweep of a node with thousands of members). */
const WIDTH = 32;

/** `task` for each item, WIDTH at a time, the results in the items' order. */
async function inBatches<T, R>(items: T[], task: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let at = 0; at < items.length; at += WIDTH) out.push(...(await Promise.all(items.slice(at, at + WIDTH).map(task))));
  return out;
}

interface Decided extends MemberStep {
  userId: string;
  info: unknown;
  /** The member key's revision after the write. */
  revision: number;
}

export interface ShareWrite {
  appId: string;
  channel: string;
  node: string;
  share: Contribution;
  /** The users whose member keys to bring in line with `share`. */
  users: Iterable<string>;
  /** A new member over this presence limit is refused: nothing is written and the answer is null. */
  maxMembers?: number;
}

export class ShareWriter {
  constructor(private readonly link: NatsLink, private readonly now: () => number) {}

  async write(w: ShareWrite): Promise<ChannelChange | null> {
    const ck = key(w.appId, "c", w.channel);
    const decided: Decided[] = [];
    let memberDelta = 0;
    let deletedBefore = false;
    for (const step of await inBatches([...w.users], (userId) => this.member(w, userId))) {
      if (step === null) return null;
      memberDelta += step.delta;
      deletedBefore ||= step.deletedBefore;
      if (step.decided.added || step.decided.removed) decided.push(step.decided);
    }
    const provisional = decided.map((d) => d.seq);
    let vacatedSince = false;
    const c = await this.link.cas<ChannelValue, ChannelStep>(ck, CHANNEL, (value, deleted) => {
      const step = applyShare(value, w.node, w.share.sockets, memberDelta, provisional, this.now());
      vacatedSince = step.occupied && (deleted || deletedBefore);
      return { next: step.changed ? step.value : UNCHANGED, result: step };
    });
    const kept = await inBatches(decided, (d) => this.settle(w, d, c));
    const settled = decided.filter((_, i) => kept[i]);
    return {
      value: c.value,
      changed: c.changed || decided.length > 0,
      occupied: c.occupied,
      vacated: c.vacated,
      added: settled.filter((d) => d.added).map((d) => ({ userId: d.userId, userInfo: d.info })),
      removed: settled.filter((d) => d.removed).map((d) => d.userId),
      seq: settled.length > 0 ? c.seq : 0,
      subscriptionCount: c.subscriptionCount,
      countChanged: c.countChanged,
      vacatedSince,
    };
  }

  /**
   * Writes the node's count into one member key. A new member under a presence limit first
   * reserves its place on the channel key; a place reserved for a user that turned out to be a
   * member already is given back by the channel write (`delta` -1).
   */
  private async member(w: ShareWrite, userId: string): Promise<{ decided: Decided; delta: number; deletedBefore: boolean } | null> {
    const mk = memberKey(w.appId, w.channel, userId);
    const mine = w.share.members.get(userId);
    let reserved = false;
    let deletedBefore = false;
    for (;;) {
      const { result, revision } = await this.link.casAt<MemberValue, MemberStep | "reserve">(mk, MEMBER, (value) => {
        const step = applyMember(value, w.node, mine?.count ?? 0, mine?.info, this.now());
        if (step.added && w.maxMembers !== undefined && w.maxMembers >= 0 && !reserved) return { next: UNCHANGED, result: "reserve" };
        return { next: step.value ?? UNCHANGED, result: step };
      });
      if (result !== "reserve") {
        const delta = (result.added ? 1 : result.removed ? -1 : 0) - (reserved ? 1 : 0);
        return { decided: { ...result, userId, info: mine?.info, revision }, delta, deletedBefore };
      }
      const placed = await this.link.cas<ChannelValue, boolean>(key(w.appId, "c", w.channel), CHANNEL, (value, deleted) => {
        const next = reservePlace(value, w.maxMembers!);
        deletedBefore = deleted;
        return next ? { next, result: true } : { next: UNCHANGED, result: false };
      });
      if (!placed) return null;
      reserved = true;
    }
  }

  /**
   * Announces a removal whose node stopped before sequencing it (its tombstone outlived a node
   * timeout): sequences it on the channel key, then claims the tombstone by stamping that
   * sequence at the revision found, so the removal is told once even if its node wakes up.
   * Undefined when the tombstone changed meanwhile. The member count is left as it is: whether
   * that node's channel write counted the removal is unknown.
   */
  async orphanRemoval(appId: string, channel: string, userId: string, tombstone: Listed<MemberValue>): Promise<ChannelChange | undefined> {
    const mk = memberKey(appId, channel, userId);
    const c = await this.link.cas<ChannelValue, { value: ChannelValue | undefined; seq: number }>(key(appId, "c", channel), CHANNEL, (value) => {
      const step = sequenceRemoval(value, tombstone.value.v, this.now());
      return { next: step.value ?? UNCHANGED, result: step };
    });
    const { result: claimed, revision } = await this.link.casAt<MemberValue, boolean>(mk, MEMBER, (value, deleted) => {
      const unchanged = !deleted && value !== undefined && !isMember(value) && value.v === tombstone.value.v;
      return unchanged ? { next: { ...value, v: c.seq }, result: true } : { next: UNCHANGED, result: false };
    });
    if (!claimed) return undefined;
    await this.link.deleteAt(mk, revision);
    const sockets = total(c.value?.n);
    return {
      value: c.value, changed: true, occupied: false, vacated: false, added: [], removed: [userId], seq: c.seq,
      subscriptionCount: sockets, countChanged: false,
    };
  }

  /**
   * After the channel write: a sequence handed out by it is stamped into an added member's key;
   * a removed member's tombstone is deleted. False when the transition was superseded (see
   * nats/members.ts): it is not announced.
   */
  private async settle(w: ShareWrite, d: Decided, c: ChannelStep): Promise<boolean> {
    const mk = memberKey(w.appId, w.channel, d.userId);
    if (d.removed) {
      // Whoever deletes the tombstone announces the removal: a tombstone rewritten since is a
      // member again (superseded), or was claimed by a sweep that took this node for dead.
      return this.link.deleteAt(mk, d.revision);
    }
    if (!c.restamp) return true;
    return this.link.cas<MemberValue, boolean>(mk, MEMBER, (value) => {
      const next = stampMember(value, d.seq, c.seq);
      return next ? { next, result: true } : { next: UNCHANGED, result: false };
    });
  }
}
