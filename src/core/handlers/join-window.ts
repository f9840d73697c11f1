import { olderThanJoin } from "../count-order.ts";
import type { MemberView } from "../presence.ts";
import type { HeldFrame } from "../registry.ts";

/**
 * Frames that reached a channel while a socket's subscription was in flight, reconciled with
 * what its ack and cache replay already told it: member events go through the socket's member
 * view (by transition sequence, so its snapshot is never repeated nor contradicted), and events
 * up to and including the replayed cache entry are dropped (so the last event is not sent twice),
 * and so are subscription counts older than the one the socket's own join produced (`joinCountSeq`):
 * another node broadcast them before this socket counted, and its own newer count follows.
 */
export function framesAfterAck(
  held: HeldFrame[], view: MemberView | undefined, cachedFrame: string | undefined, joinCountSeq?: number,
): string[] {
  if (held.length === 0) return [];
  let frames = held;
  if (cachedFrame !== undefined) {
    let at = -1;
    for (let i = frames.length - 1; i >= 0; i--) {
      if (frames[i]!.frame === cachedFrame) {
        at = i;
        break;
      }
    }
    if (at >= 0) frames = frames.slice(at + 1);
  }
  const out: string[] = [];
  for (const { frame, member, countSeq } of frames) {
    if (olderThanJoin(countSeq, joinCountSeq)) continue;
    if (!member || !view || view.admit(member)) out.push(frame);
  }
  return out;
}
