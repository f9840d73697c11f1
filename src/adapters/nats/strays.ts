// Member keys that sweeping the channel keys cannot reach. A join writes the member key before
// the channel key (nats/members.ts), so a node that died between the two credits a member of a
// channel whose key does not name it; a node that died between a removal and its sequencing
// leaves the removal's tombstone behind. One listing of every member key finds both.
import type { NatsLink } from "./connection.ts";
import { isMember } from "./members.ts";
import { memberOfKey } from "./state.ts";
import { MEMBER } from "./values.ts";

export interface StrayShare {
  appId: string;
  channel: string;
  node: string;
}

/**
 * The channels whose member keys credit a node that is not alive, once per channel and node; a
 * tombstone older than `staleMs` (by the server's write time) is deleted on the way.
 */
export async function strayShares(link: NatsLink, alive: (node: string) => boolean, nowMs: number, staleMs: number): Promise<StrayShare[]> {
  const out = new Map<string, StrayShare>();
  for (const [k, { value, revision, created }] of await link.entries("*.m.*.*", MEMBER)) {
    const member = memberOfKey(k);
    if (!member) continue;
    if (!isMember(value)) {
      if (nowMs - created > staleMs) await link.deleteAt(k, revision);
      continue;
    }
    for (const node of Object.keys(value.n)) {
      if (!alive(node)) out.set(`${member.appId}\n${member.channel}\n${node}`, { appId: member.appId, channel: member.channel, node });
    }
  }
  return [...out.values()];
}
