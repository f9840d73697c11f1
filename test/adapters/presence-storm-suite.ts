// Concurrent presence joins and leaves (issue: presence announced twice with asynchronous
// adapters). Every socket's view is rebuilt from what it was sent: its subscription_succeeded
// snapshot, then each member_added / member_removed. A member announced to a socket that already
// knew it, or removed from a socket that never knew it, is a defect; so is a view that ends up
// different from the channel's real members.
import { describe, expect, it } from "vitest";
import { rawClient, type Frame, type RawClient } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import { MEMBER_ADDED, MEMBER_REMOVED, eventually, subscribe, uniquePrefix, type ClusterOptions } from "./cluster.ts";

export interface StormDriver {
  label: string;
  available: boolean;
  /** Node counts to run the storm on (the local adapter only has one). */
  sizes: number[];
  start(size: number, options: ClusterOptions): Promise<TestServer[]>;
}

interface Member {
  userId: string;
  client: RawClient;
  /** The member ids of its subscription_succeeded snapshot. */
  ids: string[];
  /** Which of the nodes it joined through. */
  node: number;
}

/** One socket's view: its snapshot and the member events after it, with every anomaly named. */
function viewOf(m: Member, channel: string): { view: Set<string>; anomalies: string[]; added: string[]; removed: string[] } {
  const view = new Set(m.ids);
  const anomalies: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const f of m.client.frames as Frame[]) {
    if (f.channel !== channel) continue;
    const id = String(JSON.parse(String(f.data)).user_id);
    if (f.event === MEMBER_ADDED) {
      added.push(id);
      if (view.has(id)) anomalies.push(`${m.userId}'s socket was told twice that ${id} joined`);
      view.add(id);
    } else if (f.event === MEMBER_REMOVED) {
      removed.push(id);
      if (!view.has(id)) anomalies.push(`${m.userId}'s socket was told that ${id} left, but never that ${id} was there`);
      view.delete(id);
    }
  }
  return { view, anomalies, added, removed };
}

/** Each live socket whose view differs from the members: missing and extra ids, anomalies, its node. */
function wrongViews(live: Member[], channel: string, expected: Set<string>): string {
  const wrong = live.flatMap((m) => {
    const { view, anomalies } = viewOf(m, channel);
    const missing = [...expected].filter((id) => !view.has(id));
    const extra = [...view].filter((id) => !expected.has(id));
    if (missing.length + extra.length === 0) return [];
    return [`${m.userId} on node ${m.node} misses [${missing.join(",")}] has extra [${extra.join(",")}]${anomalies.length ? ` anomalies: ${anomalies.join("; ")}` : ""}`];
  });
  return `${wrong.length} of ${live.length} views wrong: ${wrong.slice(0, 8).join(" | ")}`;
}

function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

export function describePresenceStorm(driver: StormDriver): void {
  for (const size of driver.sizes) {
    describe.skipIf(!driver.available)(`${driver.label} adapter, ${size} node(s): concurrent presence joins and leaves`, () => {
      it("tells each socket about each member exactly once, and every view ends complete", async () => {
        const nodes = await driver.start(size, { prefix: uniquePrefix("storm"), env: { APP_ENABLE_USER_AUTHENTICATION: "false" } });
        const channel = `presence-storm-${Math.random().toString(36).slice(2, 8)}`;
        const live: Member[] = [];
        const gone: Member[] = [];
        let next = 0;
        const join = async (userId: string): Promise<Member> => {
          const index = next++ % nodes.length;
          const node = nodes[index]!;
          const client = await rawClient(node);
          const ack = await subscribe(node, client, channel, { user_id: userId, user_info: { name: userId } });
          const member: Member = { userId, client, ids: JSON.parse(String(ack.data)).presence.ids.map(String), node: index };
          live.push(member);
          return member;
        };
        const leave = async (m: Member) => {
          live.splice(live.indexOf(m), 1);
          gone.push(m);
          m.client.close();
          await m.client.closed;
        };
        const expected = () => new Set(live.map((m) => m.userId));
        /** Waits until every live view matches the members, then a little longer for late duplicates. */
        const settle = async (what: string) => {
          await eventually(() => live.every((m) => sorted(viewOf(m, channel).view).join() === sorted(expected()).join()), 15_000, what)
            .catch((error: Error) => {
              // Which sockets are wrong and how: a flake on a slow runtime must explain itself.
              throw new Error(`${error.message}; ${wrongViews(live, channel, expected())}`);
            });
          await new Promise((r) => setTimeout(r, 300));
          const anomalies = live.flatMap((m) => viewOf(m, channel).anomalies);
          expect(anomalies, what).toEqual([]);
          for (const m of live) expect(sorted(viewOf(m, channel).view), `${m.userId}'s view ${what}`).toEqual(sorted(expected()));
        };
        try {
          const observer = await join("observer");
          // 50 sockets, 10 at a time; u0..u9 join twice (a second socket of a member already there).
          const users = Array.from({ length: 50 }, (_, i) => `u${i % 40}`);
          for (let b = 0; b < 5; b++) await Promise.all(users.slice(b * 10, b * 10 + 10).map(join));
          await settle("after 50 concurrent joins");
          // Leaves and joins at once: different users, and users that keep another socket.
          for (let round = 0; round < 2; round++) {
            const leaving = live.filter((m) => m !== observer).slice(0, 10);
            await Promise.all([...leaving.map(leave), ...Array.from({ length: 10 }, (_, i) => join(`r${round}-${i % 8}`))]);
          }
          await settle("after concurrent joins and leaves");
          // Everyone but the observer leaves, 10 at a time.
          while (live.length > 1) await Promise.all(live.filter((m) => m !== observer).slice(0, 10).map(leave));
          await settle("after everyone left");
          const seen = viewOf(observer, channel);
          const everyone = new Set([...gone.map((m) => m.userId)]);
          expect(sorted(seen.added)).toEqual(sorted(everyone));
          expect(sorted(seen.removed)).toEqual(sorted(everyone));
        } finally {
          for (const m of live) m.client.close();
          await Promise.all(nodes.map((n) => n.stop()));
        }
      }, 90_000);
    });
  }
}
