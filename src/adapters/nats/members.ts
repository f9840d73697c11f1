// Presence members in the nats driver: one KV key per member ("<app>.m.<channel>.<user>", see
// state.ts) holding every node's socket count for that user, so a join or leave rewrites one
// small value, not the whole member list, and a channel is not capped by the JetStream payload
// limit. Joining and leaving a member is two writes: the member key, then the channel key.
//
// - The member key's compare-and-set DECIDES the transition: exactly one node sees a user's
//   sockets go 0 → >0 (member_added) or >0 → 0 (member_removed), cluster-wide.
// - The channel key's compare-and-set SEQUENCES it (ChannelValue.v, core/presence.ts). A member
//   snapshot reads the channel's `v` first and lists the member keys after, so a transition with
//   a sequence at or below the snapshot's was decided before the listing and is in it; a later one
//   is either in the listing too (a known user's member_added, an unknown user's member_removed:
//   both ignored by MemberView) or applied on top.
// - Per user, the sequences must follow the decisions (MemberLog drops an older one): a reload
//   moving a user from node Y to node X decides Y's member_removed before X's member_added, but
//   X's channel write may land first. So the deciding write puts a provisional sequence, above
//   the user's previous one, into the member key (a removed member stays as a tombstone `{n: {}}`
//   until its transition is sequenced), and the channel write keeps it if it is above the
//   channel's sequence. If not, the channel write hands out a new one and the member key is
//   stamped with it, unless another transition of the user was decided meanwhile: then this one
//   is superseded, is not announced (the later one sets the outcome every socket ends up with),
//   and keeps its provisional sequence, which the later one's is above.
import { nextMemberSeq } from "../../core/presence.ts";
import { setCount, total, type Counts } from "./state.ts";

export interface MemberValue {
  n: Counts;
  /** user_info of the member's first socket (absent on a tombstone). */
  i?: unknown;
  /** Join order: the sequence of the member_added. */
  o: number;
  /** Sequence of the user's last transition, provisional until the channel write sequenced it. */
  v: number;
}

export interface MemberStep {
  /** The member key's next value (a tombstone on removal); undefined: unchanged. */
  value: MemberValue | undefined;
  added: boolean;
  removed: boolean;
  /** The transition's provisional sequence (0: no transition). */
  seq: number;
}

/** Sets `node`'s count of sockets for the user (`info` is the user_info if it becomes a member). */
export function applyMember(current: MemberValue | undefined, node: string, count: number, info: unknown, nowMs: number): MemberStep {
  const before = total(current?.n);
  if ((current?.n[node] ?? 0) === count) return { value: undefined, added: false, removed: false, seq: 0 };
  const n = { ...current?.n };
  setCount(n, node, count);
  const after = total(n);
  if (before === 0 && after > 0) {
    const seq = nextMemberSeq(current?.v, nowMs);
    return { value: { n, i: info, o: seq, v: seq }, added: true, removed: false, seq };
  }
  if (before > 0 && after === 0) {
    const seq = nextMemberSeq(current!.v, nowMs);
    return { value: { n, o: current!.o, v: seq }, added: false, removed: true, seq };
  }
  return { value: { ...current!, n }, added: false, removed: false, seq: 0 };
}

/**
 * The member key with its added member's transition sequenced as `seq`; undefined when another
 * transition of the user was decided since the one of `provisional` (it is superseded).
 */
export function stampMember(current: MemberValue | undefined, provisional: number, seq: number): MemberValue | undefined {
  if (!current || current.v !== provisional) return undefined;
  return { ...current, o: seq, v: seq };
}

export function isMember(value: MemberValue | undefined): boolean {
  return total(value?.n) > 0;
}

/** Members in join order (ties by user id): userId → user_info. Tombstones are left out. */
export function membersInOrder(entries: Iterable<[userId: string, value: MemberValue]>): Map<string, unknown> {
  const live = [...entries].filter(([, value]) => isMember(value));
  live.sort((a, b) => a[1].o - b[1].o || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(live.map(([id, value]) => [id, value.i]));
}
