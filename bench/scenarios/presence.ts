// presence: M members join one presence channel, a bounded number at a time (each join is a
// fresh connection + signed subscribe), then leave the same way. Every member must end up
// knowing all M members, must never be told twice about one (a member_added for a member its
// snapshot or an earlier member_added already gave it, or a member_removed for one it never
// knew), and must see the removal of every member that finished leaving before it started to
// leave itself.
import { BenchSocket, closeAll, wsUrl } from "../lib/client.ts";
import { channelAuth } from "../lib/sign.ts";
import { pool, round, until } from "../lib/stats.ts";
import { fmt, PhaseMeters, type ScenarioContext, type ScenarioResult } from "./common.ts";

const CHANNEL = "presence-bench";

interface Member {
  userId: string;
  socket: BenchSocket;
  known: Set<string>;
  removedSeen: Set<string>;
  /** Member events that repeated or contradicted what this socket had been told. */
  duplicates: number;
}

export async function presenceScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { members: m, joinConcurrency, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  const url = wsUrl(ctx.server.host, ctx.server.port, ctx.server.app.key);
  ctx.log(`presence: ${m} members, ${joinConcurrency} joining at a time`);
  let added = 0;
  let removed = 0;
  const members: Member[] = [];

  const meters = new PhaseMeters(ctx.server.pid);
  const joinStart = performance.now();
  const joined = await pool(m, joinConcurrency, async (i) => {
    const socket = await BenchSocket.connect(url);
    const member: Member = { userId: `user-${i}`, socket, known: new Set(), removedSeen: new Set(), duplicates: 0 };
    const userIdOf = (text: string) => (JSON.parse((JSON.parse(text) as { data: string }).data) as { user_id: string }).user_id;
    socket.onFrame = (text) => {
      if (text.includes("pusher_internal:member_added")) {
        added++;
        const id = userIdOf(text);
        if (member.known.has(id)) member.duplicates++;
        member.known.add(id);
      } else if (text.includes("pusher_internal:member_removed")) {
        removed++;
        const id = userIdOf(text);
        if (!member.known.delete(id)) member.duplicates++;
        member.removedSeen.add(id);
      }
    };
    const channelData = JSON.stringify({ user_id: member.userId, user_info: { name: `Member ${i}` } });
    const ack = await socket.subscribe(CHANNEL, channelAuth(ctx.server.app, socket.socketId, CHANNEL, channelData), channelData);
    const presence = (JSON.parse((JSON.parse(ack) as { data: string }).data) as { presence: { ids: string[] } }).presence;
    // Frames are handled in order, so nothing for this channel arrived before its ack.
    for (const id of presence.ids) member.known.add(id);
    members.push(member);
  }, deadline);
  const joinSeconds = (performance.now() - joinStart) / 1000;
  const n = members.length;
  // With the local adapter exactly one of two members learns of the other through member_added
  // (the other finds it in its snapshot): n(n-1)/2 frames. With a networked adapter two members
  // that join at once can both find each other in their snapshots, so fewer is correct there;
  // what must hold on every adapter is a complete view and no repeats.
  const pairs = (n * (n - 1)) / 2;
  await until(() => members.every((x) => x.known.size >= n), 5_000);
  const allJoinedSeconds = (performance.now() - joinStart) / 1000;
  const incomplete = members.filter((x) => x.known.size !== n).length;
  const addedSeen = added;
  const duplicatesOnJoin = members.reduce((sum, x) => sum + x.duplicates, 0);

  // Leaving: unsubscribe, then ping. The server handles a socket's frames in order, so the pong
  // proves the unsubscribe (and its member_removed broadcast) has been processed. Two members
  // leaving at the same moment may legitimately miss each other's removal, so the check is:
  // a member must have seen the removal of everyone whose leave had completed before its own
  // unsubscribe was sent.
  const leaveStart = performance.now();
  const completed: string[] = [];
  let missedRemovals = 0;
  let requiredRemovals = 0;
  const left = await pool(n, joinConcurrency, async (i) => {
    const member = members[i]!;
    const mustHaveSeen = completed.length;
    const pong = member.socket.waitFor((t) => t.includes("pusher:pong"));
    member.socket.send(JSON.stringify({ event: "pusher:unsubscribe", data: { channel: CHANNEL } }));
    member.socket.send('{"event":"pusher:ping","data":{}}');
    await pong;
    requiredRemovals += mustHaveSeen;
    for (let k = 0; k < mustHaveSeen; k++) if (!member.removedSeen.has(completed[k]!)) missedRemovals++;
    completed.push(member.userId);
  }, deadline);
  const leaveSeconds = (performance.now() - leaveStart) / 1000;
  const cpu = meters.read();
  const sockets = members.map((x) => x.socket);
  const dropped = sockets.filter((s) => s.closed).length;
  await closeAll(sockets);

  const duplicates = members.reduce((sum, x) => sum + x.duplicates, 0);
  const ok = joined.failures === 0 && left.failures === 0 && incomplete === 0 && addedSeen <= pairs && duplicates === 0 &&
    missedRemovals === 0 && dropped === 0;
  return {
    name: "presence",
    ok,
    summary: `all joined in ${fmt(allJoinedSeconds, 2)} s; all left in ${fmt(leaveSeconds, 2)} s; ` +
      `${fmt(addedSeen + removed, 0)} member events, ${incomplete + missedRemovals} missed, ${duplicates} told twice`,
    ...cpu,
    metrics: {
      members: m, joinConcurrency, joined: n, joinFailures: joined.failures, leaveFailures: left.failures,
      joinSeconds: round(joinSeconds, 3), allJoinedSeconds: round(allJoinedSeconds, 3), leaveSeconds: round(leaveSeconds, 3),
      memberAddedAtMost: pairs, memberAddedReceived: addedSeen, memberRemovedReceived: removed,
      memberEventsToldTwice: duplicates, memberEventsToldTwiceOnJoin: duplicatesOnJoin,
      memberRemovedRequired: requiredRemovals, memberRemovedMissed: missedRemovals,
      membersWithIncompleteView: incomplete, socketsDropped: dropped,
    },
    notes: [...joined.errors, ...left.errors],
  };
}
