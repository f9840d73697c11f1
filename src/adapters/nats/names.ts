// Subject and bucket names for a prefix, and turning a KV change into the core's transitions.
import { classifyChannel } from "../../core/channels.ts";
import { appToken } from "../cluster/app-buses.ts";
import type { StoreTransition } from "../cluster/state-sync.ts";
import type { ChannelChange } from "./state.ts";

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/**
 * Nodes with the same prefix form one cluster. Subjects and bucket names allow fewer characters
 * than REDIS_PREFIX, so the prefix is sanitized and a hash of the original keeps "a:" and "a_" apart.
 */
export function natsNames(prefix: string): { bus: string; bucket: string; app(appId: string): string } {
  const id = `${prefix.replace(/[^A-Za-z0-9_-]/g, "_")}${fnv1a(prefix)}`;
  return {
    bus: `switchboard.${id}.bus`, bucket: `switchboard_${id}`,
    /** An app's bus: one subject token, whatever the app id holds (no ".", "*", ">" or spaces). */
    app: (appId) => `switchboard.${id}.app.${appToken(appId)}`,
  };
}

/**
 * The transitions of a change the core did not ask for (a dead node swept, a resync): occupied
 * first, then member_added; member_removed before vacated (spec §7.1); otherwise, with `counts`,
 * the new count. Each member transition carries its own sequence, its member key's revision.
 */
export function transitionsOf(channel: string, change: ChannelChange, counts: boolean): StoreTransition[] {
  const out: StoreTransition[] = [];
  const vacatedSince = change.vacatedSince || undefined;
  const counted = { subscriptionCount: change.subscriptionCount, countSeq: change.countSeq };
  const base = { channel, socketId: "", ...counted, ...(vacatedSince && { vacatedSince }) };
  let occupied = change.occupied;
  for (const { seq, ...member } of change.added) {
    out.push({ type: "joined", ...base, member, occupied, memberAdded: true, seq });
    occupied = false;
  }
  if (occupied) out.push({ type: "joined", ...base, occupied: true, memberAdded: false });
  for (const { userId, seq } of change.removed) {
    out.push({ type: "left", channel, userId, vacated: false, memberRemoved: true, seq, ...counted });
  }
  if (change.vacated) {
    out.push({ type: "left", channel, vacated: true, memberRemoved: false, subscriptionCount: 0 });
  } else if (counts && change.countChanged && !change.occupied && !classifyChannel(channel).presence) {
    out.push({ type: "left", channel, vacated: false, memberRemoved: false, ...counted });
  }
  return out;
}
