// Writes one node's share of a channel: first the member keys whose count for the node changed,
// then the channel key (its socket count, and the member count adjusted by the transitions just
// decided). Each member key's compare-and-set decides that member's transition and its revision
// is the transition's sequence (state.ts), so nothing about a member is decided in the channel
// write; member_removed is decided before vacated (spec §7.1) by the order of the writes. The
// channel key's revision orders its subscriber count the same way (core/count-order.ts).
import { UNCHANGED, type NatsLink } from "./connection.ts";
import type { EpochBase } from "./epoch.ts";
import {
  applyChannel, applyMember, key, memberKey, reservePlace, type ChannelChange, type ChannelStep, type ChannelValue, type Contribution,
  type MemberStep, type MemberValue,
} from "./state.ts";
import { CHANNEL, MEMBER } from "./values.ts";

/** Member keys written at once by a share write that names many users (a sweep, a resync). */
const WIDTH = 32;

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

interface MemberWrite {
  userId: string;
  step: MemberStep;
  /** The transition's sequence (0: the write decided none). */
  seq: number;
  /** What the channel's member count changes by (a reserved place given back is -1). */
  delta: number;
  /** The channel key was a delete marker when the place was reserved. */
  deletedBefore: boolean;
}

export class ShareWriter {
  constructor(private readonly link: NatsLink, private readonly epochs: EpochBase) {}

  async write(w: ShareWrite): Promise<ChannelChange | null> {
    const users = [...w.users];
    const members: MemberWrite[] = [];
    for (let at = 0; at < users.length; at += WIDTH) {
      for (const m of await Promise.all(users.slice(at, at + WIDTH).map((userId) => this.member(w, userId)))) {
        if (m === null) return null;
        members.push(m);
      }
    }
    const delta = members.reduce((sum, m) => sum + m.delta, 0);
    let vacatedSince = false;
    const { result: c, revision } = await this.link.casAt<ChannelValue, ChannelStep>(key(w.appId, "c", w.channel), CHANNEL, (value, deleted) => {
      const step = applyChannel(value, w.node, w.share.sockets, delta);
      vacatedSince = step.occupied && (deleted || members.some((m) => m.deletedBefore));
      return { next: step.changed ? step.value : UNCHANGED, result: step };
    });
    const decided = members.filter((m) => m.seq > 0);
    return {
      ...c,
      countSeq: revision > 0 ? this.epochs.seqOf(revision) : 0,
      changed: c.changed || decided.length > 0,
      added: decided.filter((m) => m.step.added).map((m) => ({ userId: m.userId, userInfo: w.share.members.get(m.userId)?.info, seq: m.seq })),
      removed: decided.filter((m) => m.step.removed).map((m) => ({ userId: m.userId, seq: m.seq })),
      kept: members.filter((m) => m.seq === 0 && m.step.changed && m.step.value?.o !== undefined)
        .map((m) => ({ userId: m.userId, userInfo: m.step.value!.i, seq: this.epochs.seqOf(m.step.value!.o!) })),
      vacatedSince,
    };
  }

  /**
   * Writes the node's count into one member key. A new member under a presence limit first
   * reserves its place on the channel key; a place reserved for a user that turned out to be a
   * member already (another node added it meanwhile) is given back by the channel write.
   */
  private async member(w: ShareWrite, userId: string): Promise<MemberWrite | null> {
    const mine = w.share.members.get(userId);
    const limited = w.maxMembers !== undefined && w.maxMembers >= 0;
    let reserved = false;
    let deletedBefore = false;
    for (;;) {
      const { result, revision } = await this.link.casAt<MemberValue, MemberStep | "reserve">(
        memberKey(w.appId, w.channel, userId), MEMBER, (value, _deleted, current) => {
          const step = applyMember(value, w.node, mine?.count ?? 0, mine?.info, current);
          if (!step.changed) return { next: UNCHANGED, result: step };
          if (step.added && limited && !reserved) return { next: UNCHANGED, result: "reserve" };
          return { next: step.value, result: step };
        },
      );
      if (result !== "reserve") {
        const decided = result.changed && (result.added || result.removed);
        const delta = (decided ? (result.added ? 1 : -1) : 0) - (reserved ? 1 : 0);
        return { userId, step: result, seq: decided ? this.epochs.seqOf(revision) : 0, delta, deletedBefore };
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
}
