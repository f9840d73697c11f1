// storm: N clients, each on 5 channels (3 public, 1 private, 1 presence room), all dropped at once
// and reconnecting the way pusher-js does after a network drop: a new connection, then every
// subscription sent at once (private and presence signed for the new socket id). Measures the time
// until every client is back and acknowledged on all 5 channels, and the server CPU that took.
// Then checks that nothing was lost or repeated: every client's presence view equals its room,
// no member event contradicted what it had been told, and one event published to each shared
// public channel reaches every subscriber exactly once.
import { BenchSocket, closeAll, sleep, wsUrl } from "../lib/client.ts";
import { channelAuth, Publisher } from "../lib/sign.ts";
import { pool, round, until } from "../lib/stats.ts";
import { fmt, PhaseMeters, type ScenarioContext, type ScenarioResult } from "./common.ts";

/** Public channel groups: `storm-g<i % GROUPS>` (plus `storm-all` and one of the client's own). */
const GROUPS = 100;

interface Client {
  i: number;
  userId: string;
  socket?: BenchSocket;
  /** Members of its presence room, as this client was told. */
  known: Set<string>;
  /** Member events that repeated or contradicted the view (told twice). */
  contradictions: number;
  acks: number;
  /** Deliveries of the check events, by channel. */
  received: Map<string, number>;
}

const roomOf = (i: number, room: number) => `presence-storm-r${Math.floor(i / room)}`;

function channelsOf(c: Client, room: number): string[] {
  return ["storm-all", `storm-g${c.i % GROUPS}`, `storm-u${c.i}`, `private-storm-u${c.i}`, roomOf(c.i, room)];
}

/** One client's session: connect, then its five subscriptions at once, as pusher-js does. */
async function session(ctx: ScenarioContext, url: string, c: Client, timeoutMs: number): Promise<void> {
  const socket = await BenchSocket.connect(url, timeoutMs);
  c.socket = socket;
  c.known = new Set();
  c.acks = 0;
  const room = roomOf(c.i, ctx.options.stormRoom);
  const userIdOf = (text: string) => (JSON.parse((JSON.parse(text) as { data: string }).data) as { user_id: string }).user_id;
  socket.onFrame = (text) => {
    if (c.socket !== socket) return; // a frame still reaching the dropped socket
    if (text.includes("pusher_internal:member_added")) {
      const id = userIdOf(text);
      if (c.known.has(id)) c.contradictions++;
      c.known.add(id);
    } else if (text.includes("pusher_internal:member_removed")) {
      if (!c.known.delete(userIdOf(text))) c.contradictions++;
    } else if (text.includes('"event":"storm-check"')) {
      const channel = (JSON.parse(text) as { channel: string }).channel;
      c.received.set(channel, (c.received.get(channel) ?? 0) + 1);
    }
  };
  const channelData = JSON.stringify({ user_id: c.userId, user_info: { n: c.i } });
  await Promise.all(channelsOf(c, ctx.options.stormRoom).map(async (channel) => {
    const presence = channel === room;
    const auth = channel.startsWith("private-") || presence
      ? channelAuth(ctx.server.app, socket.socketId, channel, presence ? channelData : undefined)
      : undefined;
    const ack = await socket.subscribe(channel, auth, presence ? channelData : undefined, timeoutMs);
    if (presence) {
      // Frames arrive in order: nothing for the room reached onFrame before this snapshot.
      const ids = (JSON.parse((JSON.parse(ack) as { data: string }).data) as { presence: { ids: string[] } }).presence.ids;
      for (const id of ids) c.known.add(id);
    }
    c.acks++;
  }));
}

export async function stormScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const { stormConnections: n, stormRoom: room, stormInFlight, scenarioTimeout } = ctx.options;
  const deadline = performance.now() + scenarioTimeout * 1000;
  const url = wsUrl(ctx.server.host, ctx.server.port, ctx.server.app.key);
  const timeoutMs = Math.min(60_000, scenarioTimeout * 1000);
  const clients: Client[] = Array.from({ length: n }, (_, i) => ({
    i, userId: `u${i}`, known: new Set<string>(), contradictions: 0, acks: 0, received: new Map<string, number>(),
  }));
  ctx.log(`storm: ${n} clients × 5 channels (presence rooms of ${room}), ${stormInFlight} handshakes in flight`);

  const setupStart = performance.now();
  const setup = await pool(n, stormInFlight, (i) => session(ctx, url, clients[i]!, timeoutMs), deadline);
  const setupSeconds = (performance.now() - setupStart) / 1000;
  if (setup.failures > 0) throw new Error(`setup: ${setup.failures} of ${n} clients failed: ${setup.errors.join("; ")}`);
  // Let the member events of the setup settle, so the storm starts from a quiet server.
  await sleep(1000);

  // The drop: every client's socket closes at once, and each reconnects straight away.
  const meters = new PhaseMeters(ctx.server.pid);
  const stormStart = performance.now();
  const old = clients.map((c) => c.socket!);
  for (const s of old) s.close();
  for (const c of clients) c.contradictions = 0;
  const storm = await pool(n, stormInFlight, (i) => session(ctx, url, clients[i]!, timeoutMs), deadline);
  const stormSeconds = (performance.now() - stormStart) / 1000;
  const cpu = meters.read();
  const acked = clients.reduce((sum, c) => sum + c.acks, 0);

  // Presence views: each client must end up knowing exactly its room (member events of the old
  // sockets' departures may still be on their way when the last ack arrives: wait for them).
  const roomSize = (i: number) => Math.min(room, n - Math.floor(i / room) * room);
  const viewOk = (c: Client) => c.known.size === roomSize(c.i) && [...c.known].every((id) => roomOf(Number(id.slice(1)), room) === roomOf(c.i, room));
  await until(() => clients.every(viewOk), 10_000);
  const badViews = clients.filter((c) => !viewOk(c)).length;
  const contradictions = clients.reduce((sum, c) => sum + c.contradictions, 0);

  // Delivery: one event on storm-all and on each group channel reaches every subscriber once.
  const publisher = new Publisher(ctx.server.host, ctx.server.port, ctx.server.app);
  const checkChannels = ["storm-all", ...Array.from({ length: Math.min(GROUPS, n) }, (_, g) => `storm-g${g}`)];
  const statuses = await Promise.all(checkChannels.map((ch) => publisher.trigger(ch, "storm-check", "{}")));
  const published = statuses.filter((s) => s === 200).length;
  const deliveredOnce = (c: Client) => c.received.get("storm-all") === 1 && c.received.get(`storm-g${c.i % GROUPS}`) === 1;
  await until(() => clients.every(deliveredOnce), 10_000);
  await sleep(200); // a repeat would arrive right behind the first copy
  const missing = clients.reduce((sum, c) => sum + (c.received.has("storm-all") ? 0 : 1) + (c.received.has(`storm-g${c.i % GROUPS}`) ? 0 : 1), 0);
  const twice = clients.reduce((sum, c) => sum + [...c.received.values()].filter((v) => v > 1).length, 0);
  const sockets = clients.map((c) => c.socket).filter((s): s is BenchSocket => s !== undefined);
  const dropped = sockets.filter((s) => s.closed).length;
  await closeAll(sockets);

  const cpuUsPerClient = (cpu.serverCpuPct / 100) * cpu.seconds * 1e6 / n;
  const ok = storm.failures === 0 && acked === n * 5 && badViews === 0 && contradictions === 0 &&
    published === checkChannels.length && missing === 0 && twice === 0 && dropped === 0;
  return {
    name: "storm",
    ok,
    summary: `${n} back on 5 channels in ${fmt(stormSeconds, 2)} s (${fmt(n / stormSeconds, 0)} clients/s, ` +
      `${fmt(cpuUsPerClient, 0)} µs server CPU each); ${storm.failures} failed, ${badViews} bad views, ${missing} lost, ${twice + contradictions} twice`,
    ...cpu,
    metrics: {
      clients: n, room, inFlight: stormInFlight, setupSeconds: round(setupSeconds, 3), stormSeconds: round(stormSeconds, 3),
      clientsPerSecond: round(n / stormSeconds, 0), subscriptionsPerSecond: round((n * 5) / stormSeconds, 0),
      serverCpuUsPerClient: round(cpuUsPerClient, 1), failures: storm.failures,
      subscriptionsAcked: acked, subscriptionsExpected: n * 5, presenceViewsWrong: badViews, memberEventsContradicting: contradictions,
      checkPublishes: published, checkDeliveriesMissing: missing, checkDeliveriesTwice: twice, socketsDropped: dropped,
    },
    notes: storm.errors,
  };
}
