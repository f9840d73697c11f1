// Member keys that sweeping the channel keys cannot reach. A join writes the member key before
// the channel key (nats/members.ts), so a node that died between the two credits a member of a
// channel whose key does not name it; a node that stopped between a removal and its sequencing
// leaves the removal's tombstone behind, unannounced. One listing of every member key finds both.
import type { NatsLink } from "./connection.ts";
import { isMember, type MemberValue } from "./members.ts";
import { memberOfKey } from "./state.ts";
import { MEMBER, type Listed } from "./values.ts";

export interface StrayShare {
  appId: string;
  channel: string;
  node: string;
}

export interface OrphanRemoval {
  appId: string;
  channel: string;
  userId: string;
  tombstone: Listed<MemberValue>;
}

/**
 * The channels whose member keys credit a node that is not alive (once per channel and node), and
 * the tombstones older than `staleMs` by the server's write time: removals whose node stopped
 * before it sequenced and announced them.
 */
export async function strays(
  link: NatsLink, alive: (node: string) => boolean, nowMs: number, staleMs: number,
): Promise<{ shares: StrayShare[]; orphans: OrphanRemoval[] }> {
  const shares = new Map<string, StrayShare>();
  const orphans: OrphanRemoval[] = [];
  for (const [k, listed] of await link.entries("*.m.*.*", MEMBER)) {
    const member = memberOfKey(k);
    if (!member) continue;
    const { appId, channel, userId } = member;
    if (!isMember(listed.value)) {
      if (nowMs - listed.created > staleMs) orphans.push({ appId, channel, userId, tombstone: listed });
      continue;
    }
    for (const node of Object.keys(listed.value.n)) {
      if (!alive(node)) shares.set(`${appId}\n${channel}\n${node}`, { appId, channel, node });
    }
  }
  return { shares: [...shares.values()], orphans };
}
