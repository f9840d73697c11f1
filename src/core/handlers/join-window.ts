import type { PresenceSnapshot } from "../messages.ts";

const ADDED = '{"event":"pusher_internal:member_added"';
const REMOVED = '{"event":"pusher_internal:member_removed"';

function userIdOf(frame: string): string | undefined {
  try {
    return JSON.parse(JSON.parse(frame).data).user_id;
  } catch {
    return undefined;
  }
}

/**
 * Frames that reached a channel while a socket's subscription was in flight, reconciled with
 * what its ack and cache replay already told it: member events the presence snapshot already
 * reflects are dropped (so a member is neither missed nor announced twice), and events older
 * than or equal to the replayed cache entry are dropped (so the last event is not sent twice).
 */
export function framesAfterAck(held: string[], presence: PresenceSnapshot | undefined, cachedFrame: string | undefined): string[] {
  if (held.length === 0) return held;
  let frames = held;
  if (cachedFrame !== undefined) {
    const at = frames.lastIndexOf(cachedFrame);
    if (at >= 0) frames = frames.slice(at + 1);
  }
  if (!presence) return frames;
  const members = new Set(presence.ids);
  return frames.filter((frame) => {
    if (frame.startsWith(ADDED)) {
      const id = userIdOf(frame);
      if (id === undefined || members.has(id)) return false;
      members.add(id);
    } else if (frame.startsWith(REMOVED)) {
      const id = userIdOf(frame);
      if (id === undefined || !members.has(id)) return false;
      members.delete(id);
    }
    return true;
  });
}
