// After a bus outage: member events published meanwhile never reached this node. For each
// presence channel with local sockets the node hands the store's members to the core, which
// tells each socket what it missed, ordered by the transitions' sequences (core/presence.ts).
import type { ClusterNode } from "../../core/adapter.ts";
import { classifyChannel } from "../../core/channels.ts";
import type { MemberSnapshot } from "../../core/presence.ts";
import type { LocalAdapter } from "../local.ts";

/**
 * Without `removals` (the store lost its data and refills node by node) only additions count: a
 * member missing from it may simply not be re-registered yet. Stops when `active` turns false.
 */
export async function catchUpMembers(
  local: LocalAdapter, node: ClusterNode | undefined, removals: boolean, active: () => boolean,
  snapshot: (appId: string, channel: string) => Promise<MemberSnapshot>,
): Promise<void> {
  for (const appId of local.appIds()) {
    for (const channel of local.channelNames(appId)) {
      if (!classifyChannel(channel).presence) continue;
      if (!active()) return;
      node?.syncMembers?.(appId, channel, await snapshot(appId, channel), removals);
    }
  }
}
