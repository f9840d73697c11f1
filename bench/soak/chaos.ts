// npm run chaos: three nodes on a bus of the run's own, clients spread over them (raw sockets
// per node, pusher-js through a round-robin balancer) that keep working while nodes are
// SIGKILLed and restarted, frozen with SIGSTOP/SIGCONT, and the bus is restarted. Each round:
// a fault phase (traffic + faults), recovery (everything back up, clients reconnected, every
// node accepting publishes, the cluster's answers polled until they match what the clients did),
// and a verify phase (traffic, no faults: every delivery must arrive). In both phases every REST
// publish answered 2xx must reach every live subscriber (see liveCheck); a refused one (non-2xx,
// timeout, connection error) is counted, not failed. Only 127.0.0.1; every loop is bounded.
import { mkdirSync } from "node:fs";
import path from "node:path";
import Pusher from "pusher-js";
import PusherServer from "pusher";
import { freePort } from "../../test/adapters/cluster.ts";
import { startBalancer } from "../../test/helpers/balancer.ts";
import { pusherClient } from "../../test/helpers/clients.ts";
import { startReceiver } from "../../test/helpers/webhook-receiver.ts";
import type { TestServer } from "../../test/helpers/server.ts";
import { wsUrl } from "../lib/client.ts";
import { BENCH_APP, buildNode } from "../lib/server.ts";
import { ClusterNode, ownBus } from "./cluster.ts";
import { git, inBatches, machine, parseFlags, restGet, sleep, writeReport } from "./lib.ts";
import { Peer } from "./peer.ts";

const HELP = `Usage: npm run chaos -- [options]

  --minutes 10            total run time; rounds start until it is reached
  --bus redis             redis or nats (a server of the run's own on spare ports)
  --runtime node          runtime of the three nodes (node, deno, bun, binary)
  --sockets 120           raw sockets, spread over the nodes
  --pusher-js 6           pusher-js clients through a round-robin balancer
  --node-timeout 3        CLUSTER_NODE_TIMEOUT in seconds
  --fault-seconds 20      length of each round's fault phase
  --verify-seconds 8      traffic without faults after recovery; every delivery must arrive
  --converge-seconds 15   limit for the cluster to agree after the last fault of a round
  --faults kill,stop,bus  the kinds of fault to pick from
  --publish-timeout-ms 3000  per-request limit of a REST publish; a hung node's answer counts as refused
  --live-slack-ms 2000    a subscriber counts as live for a 2xx publish only if its socket stayed open,
                          and its node had no kill/freeze, from the request until this long after the 2xx
  --out FILE              JSON report (default bench/results/chaos-<bus>-<date>.json)
  --logs DIR              write each node's whole log there (n0.log ...; JSON lines with times)
  --log-level info        the nodes' LOG_LEVEL; debug adds each connection, subscription and adapter step, to explain a failed round
`;

const o = parseFlags(process.argv.slice(2), {
  minutes: 10, bus: "redis", runtime: "node", sockets: 120, pusherJs: 6, nodeTimeout: 3, faultSeconds: 20, verifySeconds: 8, convergeSeconds: 15, faults: "kill,stop,bus", publishTimeoutMs: 3000, liveSlackMs: 2000, out: "", logs: "", logLevel: "info", build: true,
}, HELP);

const app = BENCH_APP;
const PUBLIC = 6;
const PRESENCE = 4;
const random = (k: number) => Math.floor(Math.random() * k);
/** mm:ss.mmm of an epoch time, to line events up in a report. */
const clock = (ms: number) => new Date(ms).toISOString().slice(14, 23);

/** One socket incarnation, raw or pusher-js: what it subscribed to and when, what it received. */
interface Sink {
  label: string;
  /** The node this socket is on; undefined for pusher-js, which the balancer places out of sight. */
  node?: number;
  /** channel -> time the subscription was acknowledged. */
  subs: Map<string, number>;
  /** presence channel -> this socket's user id there. */
  users: Map<string, string>;
  closedAt?: number;
  seen: Map<string, Set<string>>;
  duplicates: { channel: string; id: string }[];
  /** member_added of a member it already had, member_removed of one it did not (raw sockets). */
  anomalies: string[];
  memberLog: string[];
  /** The socket's own member list of a presence channel. */
  view(channel: string): string[] | undefined;
}

/** One REST publish, whatever its answer: the live-subscriber check needs the request's timing. */
interface Publish {
  channel: string;
  id: string;
  node: number;
  round: number;
  phase: "fault" | "verify";
  sentAt: number;
  answeredAt: number;
  /** "2xx"; "status" (an HTTP answer outside 2xx); "timeout" (no answer in --publish-timeout-ms); "error" (connection refused or reset). */
  outcome: "2xx" | "status" | "timeout" | "error";
  status?: number;
}

/**
 * At most this many REST publishes in flight: a frozen node holds its third of them (~20/s for up
 * to --publish-timeout-ms each) while the loop keeps publishing through the others.
 */
const MAX_PUBLISHES_IN_FLIGHT = 32;

interface Sent {
  channel: string;
  id: string;
  at: number;
  round: number;
  phase: "fault" | "verify";
  from?: Sink;
}

function record(sink: Sink, channel: string, id: unknown): void {
  if (typeof id !== "string") return;
  let set = sink.seen.get(channel);
  if (!set) sink.seen.set(channel, (set = new Set()));
  if (set.has(id)) sink.duplicates.push({ channel, id });
  else set.add(id);
}

/** Channels of raw slot i: pairs share a private channel (client events) and, low down, a user. */
function plan(i: number, n: number) {
  const pair = Math.floor(i / 2);
  return {
    channels: [`chaos-pub-${i % PUBLIC}`, `private-chaos-${pair}`, `presence-chaos-${pair % PRESENCE}`, ...(i % 3 === 0 ? [`private-solo-${i}`] : [])],
    presence: `presence-chaos-${pair % PRESENCE}`,
    user: i < n / 5 ? `u${pair}` : `u${i}`,
  };
}

async function main(): Promise<number> {
  if (o.runtime === "node" && o.build) buildNode();
  const prefix = `chaos_${Date.now().toString(36)}_`;
  const bus = await ownBus(o.bus, prefix);
  const hooks = await startReceiver({ appId: app.id, key: app.key, secret: app.secret });
  const ports = [await freePort(), await freePort(), await freePort()];
  const env: Record<string, string> = {
    ...bus.env,
    CLUSTER_NODE_TIMEOUT: String(o.nodeTimeout),
    APP_ENABLE_CLIENT_MESSAGES: "true",
    APP_MAX_CLIENT_EVENTS_PER_SECOND: "100000",
    APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: "1000",
    APP_MAX_CONNECTIONS: "-1",
    APP_MAX_BACKEND_EVENTS_PER_SECOND: "-1",
    APP_MAX_READ_REQUESTS_PER_SECOND: "-1",
    APP_WEBHOOKS: JSON.stringify([{ url: hooks.url, event_types: ["channel_occupied", "channel_vacated"] }]),
  };
  if (o.logs) {
    mkdirSync(o.logs, { recursive: true });
    env.LOG_FORMAT = "json"; // each line with its time, to line up with the faults
  }
  env.LOG_LEVEL = o.logLevel;
  const nodes = ports.map((port, i) => new ClusterNode(i, port, o.runtime, env, o.logs ? path.join(o.logs, `n${i}.log`) : undefined));
  const cleanup = async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    await bus.destroy();
    await hooks.close();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
  await bus.start();
  await Promise.all(nodes.map((n) => n.start()));
  const balancer = await startBalancer(ports);
  console.log(`chaos: 3 ${o.runtime} nodes on ports ${ports.join(", ")}, ${o.bus} bus (${Object.values(bus.env).slice(1).join(" ")}), node timeout ${o.nodeTimeout} s; ${o.sockets} raw sockets + ${o.pusherJs} pusher-js; ${o.minutes} min`);

  const start = Date.now();
  const deadline = start + o.minutes * 60_000;
  const sinks: Sink[] = [];
  const sent: Sent[] = [];
  const failures: string[] = [];
  const rounds: Record<string, unknown>[] = [];
  let stopping = false;
  let seq = 0;
  const up = () => nodes.filter((n) => n.state === "up");

  // Webhooks: the latest occupied/vacated per channel by the body's time_ms, as a receiver must
  // read them: bodies from different nodes (and retried ones) arrive in any order.
  const lastHook = new Map<string, { name: string; timeMs: number; at: number }>();
  /** The last few per channel, "name@time_ms (arrived +ms)", to explain a wrong one. */
  const hookHistory = new Map<string, string[]>();
  let hooksSeen = 0;
  const readHooks = () => {
    const bodies = hooks.received;
    for (; hooksSeen < bodies.length; hooksSeen++) {
      const body = bodies[hooksSeen]!;
      for (const e of body.events) {
        const last = lastHook.get(e.channel);
        if (!last || body.time_ms >= last.timeMs) lastHook.set(e.channel, { name: e.name, timeMs: body.time_ms, at: body.at });
        const history = hookHistory.get(e.channel) ?? [];
        hookHistory.set(e.channel, history);
        history.push(`${e.name.slice(8)}@${clock(body.time_ms)} (+${body.at - body.time_ms} ms)`);
        if (history.length > 6) history.shift();
      }
    }
  };

  // ---- raw sockets: a slot reconnects (to a node that is up) whenever its socket goes away.
  const n = o.sockets;
  const slots: ({ peer: Peer; sink: Sink } | undefined)[] = new Array(n);
  const reconnecting = new Set<number>();
  /** What the harness did per user (time, action, node), to explain a wrong member list. */
  const userLog = new Map<string, string[]>();
  const act = (user: string, what: string) => {
    const log = userLog.get(user) ?? [];
    userLog.set(user, log);
    log.push(`${clock(Date.now())} ${what}`);
    if (log.length > 40) log.splice(0, 20);
  };
  const openSlot = async (i: number): Promise<void> => {
    const p = plan(i, n);
    for (let attempt = 0; attempt < 60 && !stopping; attempt++) {
      const node = up()[random(up().length)] ?? nodes[random(3)]!;
      let peer: Peer | undefined;
      try {
        peer = await Peer.connect(wsUrl("127.0.0.1", node.port, app.key), `s${i}@n${node.index}`, 5000);
        const sink: Sink = { label: peer.label, node: node.index, subs: new Map(), users: new Map(), seen: peer.seen, duplicates: peer.duplicates, anomalies: peer.memberAnomalies, memberLog: peer.memberLog, view: (ch) => (peer!.members.has(ch) ? [...peer!.members.get(ch)!] : undefined) };
        await Promise.all(p.channels.map(async (ch) => {
          await peer!.subscribe(app, ch, ch === p.presence ? { user_id: p.user } : undefined, 8000);
          sink.subs.set(ch, Date.now());
          if (ch === p.presence) {
            sink.users.set(ch, p.user);
            act(p.user, `joined ${ch} on n${node.index} (s${i})`);
          }
        }));
        sinks.push(sink);
        slots[i] = { peer, sink };
        void peer.sock.closedPromise.then(() => {
          sink.closedAt = Date.now();
          act(p.user, `socket s${i} on n${node.index} closed`);
          if (slots[i]?.peer === peer) {
            slots[i] = undefined;
            if (!stopping) reconnect(i);
          }
        });
        return;
      } catch {
        peer?.terminate();
        await sleep(500);
      }
    }
    if (!stopping) failures.push(`socket slot ${i} could not reconnect in 60 attempts`);
  };
  const reconnect = (i: number) => {
    if (reconnecting.has(i)) return;
    reconnecting.add(i);
    void sleep(200 + random(800)).then(() => openSlot(i)).finally(() => reconnecting.delete(i));
  };
  await inBatches([...Array(n).keys()], 30, openSlot);

  // ---- pusher-js through the balancer: its own reconnects, a short activity timeout so a
  // frozen node is noticed, one Sink per connection (socket id).
  const pjs: { client: Pusher; sink?: Sink; channels: any[]; user: string }[] = [];
  const asServer = { host: "127.0.0.1", port: balancer.port, appId: app.id, key: app.key, secret: app.secret } as TestServer;
  for (let j = 0; j < o.pusherJs; j++) {
    const user = `pj${j}`;
    const client = pusherClient(asServer, { presence: { user_id: user }, options: { activityTimeout: 4000, pongTimeout: 2000 } });
    const entry: (typeof pjs)[number] = { client, channels: [], user };
    client.connection.bind("state_change", (s: { previous: string; current: string }) => {
      if (s.previous === "connected" && entry.sink) entry.sink.closedAt = Date.now();
      if (s.current === "connected") {
        const sink: Sink = {
          label: `pj${j}:${client.connection.socket_id}`, subs: new Map(), users: new Map(), seen: new Map(), duplicates: [], anomalies: [], memberLog: [],
          view: (ch) => {
            const c = client.channel(ch) as any;
            return c?.subscribed ? Object.keys(c.members.members) : undefined;
          },
        };
        entry.sink = sink;
        sinks.push(sink);
      }
    });
    for (const name of [`chaos-pub-${j % PUBLIC}`, `presence-chaos-${j % PRESENCE}`]) {
      const ch = client.subscribe(name) as any;
      ch.bind("pusher:subscription_succeeded", () => {
        entry.sink?.subs.set(name, Date.now());
        if (name.startsWith("presence-")) entry.sink?.users.set(name, user);
      });
      ch.bind_global((event: string, data: any) => {
        if (!event.startsWith("pusher") && entry.sink) record(entry.sink, name, data?.id);
      });
      entry.channels.push(ch);
    }
    pjs.push(entry);
  }

  // ---- traffic
  const sdks = new Map(nodes.map((nd) => [nd, new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: "127.0.0.1", port: String(nd.port), useTLS: false, timeout: o.publishTimeoutMs })]));
  const allChannels = () => [...Array(n).keys()].flatMap((i) => plan(i, n).channels);
  const stats = { published: 0, publishFailures: 0, refusedStatus: 0, refusedTimeout: 0, refusedError: 0, publishesSkipped: 0, clientEvents: 0, presenceRejoins: 0, reconnects: 0 };
  /** This round's REST publishes, every outcome. */
  const publishes: Publish[] = [];
  const inFlight = new Set<Promise<void>>();
  let phase: Sent["phase"] = "fault";
  let round = 0;
  const errors: string[] = [];
  /**
   * Starts one REST publish and returns at once: the loop keeps its pace while a frozen node
   * holds a request (up to --publish-timeout-ms). At most MAX_PUBLISHES_IN_FLIGHT at a time.
   * The node is any of the three, down or frozen too, as a server SDK that keeps its connection to
   * one node does not know: refusals are counted, and a frozen node's late 2xx is checked like any.
   */
  const publishOnce = () => {
    if (inFlight.size >= MAX_PUBLISHES_IN_FLIGHT) {
      stats.publishesSkipped++;
      return;
    }
    const node = nodes[random(nodes.length)]!;
    const chs = allChannels();
    const channel = chs[random(chs.length)]!;
    const id = `r${round}-${++seq}`;
    const thisPhase = phase;
    const thisRound = round;
    const sentAt = Date.now();
    const request = (async () => {
      let outcome: Publish["outcome"] = "2xx";
      let status: number | undefined;
      let detail = "";
      try {
        const res = await sdks.get(node)!.trigger(channel, "chaos", { id });
        status = res.status;
        // The SDK throws for 4xx/5xx; a 1xx/3xx would come back here and is no 2xx either.
        if (res.status < 200 || res.status >= 300) outcome = "status";
      } catch (error) {
        const e = error as { status?: number; error?: { name?: string; type?: string }; message?: string };
        status = e.status;
        outcome = e.status ? "status" : e.error?.name === "AbortError" || e.error?.type === "aborted" ? "timeout" : "error";
        detail = e.status ? `status ${e.status}` : `${e.message ?? error}${e.error ? `: ${(e.error as Error).message ?? e.error}` : ""}`;
      }
      const answeredAt = Date.now();
      publishes.push({ channel, id, node: node.index, round: thisRound, phase: thisPhase, sentAt, answeredAt, outcome, status });
      if (outcome === "2xx") {
        sent.push({ channel, id, at: sentAt, round: thisRound, phase: thisPhase });
        stats.published++;
        return;
      }
      stats.publishFailures++;
      if (outcome === "status") stats.refusedStatus++;
      else if (outcome === "timeout") stats.refusedTimeout++;
      else stats.refusedError++;
      // A refused request may still have been published: its deliveries are not expected, but a
      // second delivery of it would still be caught as a duplicate.
      if (thisPhase === "verify") errors.push(`publish through node ${node.index} failed outside a fault: ${detail}`);
    })();
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  };
  /** Waits for the publishes still in flight; each ends by its own timeout, so this is bounded. */
  const drainPublishes = () => Promise.all([...inFlight]);
  const clientEventOnce = () => {
    const i = random(n);
    const slot = slots[i];
    if (!slot) return;
    const p = plan(i, n);
    const channel = random(2) ? p.channels[1]! : p.presence;
    if (!slot.sink.subs.has(channel)) return;
    const id = `r${round}-${++seq}`;
    sent.push({ channel, id, at: Date.now(), round, phase, from: slot.sink });
    slot.peer.clientEvent(channel, "client-chaos", { id });
    stats.clientEvents++;
  };
  const presenceChurnOnce = async () => {
    const i = Math.floor(n / 5) + random(n - Math.floor(n / 5));
    const slot = slots[i];
    if (!slot || reconnecting.has(i)) return;
    const p = plan(i, n);
    slot.sink.subs.delete(p.presence);
    slot.sink.users.delete(p.presence);
    try {
      act(p.user, `leaving ${p.presence} (${slot.peer.label})`);
      await slot.peer.unsubscribe(p.presence, 5000);
      await sleep(random(300));
      await slot.peer.subscribe(app, p.presence, { user_id: p.user }, 8000);
      act(p.user, `rejoined ${p.presence} (${slot.peer.label})`);
      slot.sink.subs.set(p.presence, Date.now());
      slot.sink.users.set(p.presence, p.user);
      stats.presenceRejoins++;
    } catch {
      // its node went away mid-way: the slot reconnects from scratch
      slot.peer.terminate();
    }
  };
  const reconnectChurnOnce = () => {
    const i = Math.floor(n / 5) + random(n - Math.floor(n / 5));
    const slot = slots[i];
    if (!slot) return;
    stats.reconnects++;
    if (random(2)) slot.peer.close();
    else slot.peer.terminate();
  };
  const loop = async (everyMs: number, until: () => boolean, body: () => Promise<void> | void) => {
    while (!until() && !stopping) {
      const t = Date.now();
      try {
        await body();
      } catch (error) {
        if (errors.length < 20) errors.push((error as Error).message);
      }
      await sleep(Math.max(0, everyMs - (Date.now() - t)));
    }
  };

  // ---- faults
  const faultLog: { round: number; kind: string; node?: number; at: number; ms: number }[] = [];
  const injectFault = async (): Promise<string> => {
    const kinds = o.faults.split(",");
    const kind = kinds[random(kinds.length)]!;
    const at = Date.now();
    const node = nodes[random(3)]!;
    if (kind === "kill") {
      await node.kill();
      await sleep(1000 + random(3000));
      await node.start();
    } else if (kind === "stop") {
      node.freeze();
      // Sometimes shorter, sometimes longer than the node timeout: the others must not evict a
      // short freeze for good, and must evict and then take back a long one.
      await sleep(1000 + random(o.nodeTimeout * 2000));
      node.thaw();
    } else {
      await bus.kill();
      await sleep(1000 + random(3000));
      await bus.start();
    }
    faultLog.push({ round, kind, node: kind === "bus" ? undefined : node.index, at, ms: Date.now() - at });
    return kind === "bus" ? `bus restart` : `${kind} n${node.index}`;
  };

  // ---- the cluster's answers against what the clients did
  const expectedState = () => {
    const counts = new Map<string, number>();
    const users = new Map<string, Set<string>>();
    for (const s of sinks) {
      if (s.closedAt !== undefined) continue;
      for (const ch of s.subs.keys()) counts.set(ch, (counts.get(ch) ?? 0) + 1);
      for (const [ch, u] of s.users) {
        if (!users.has(ch)) users.set(ch, new Set());
        users.get(ch)!.add(u);
      }
    }
    return { counts, users };
  };
  const mismatches = async (): Promise<string[]> => {
    const { counts, users } = expectedState();
    const out: string[] = [];
    const want = [...counts].filter(([, c]) => c > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    for (const node of nodes) {
      const listed = (await restGet(node.port, app, "/channels?info=subscription_count", 3000)).body.channels as Record<string, { subscription_count?: number }>;
      const got = Object.entries(listed ?? {}).map(([ch, v]) => [ch, v.subscription_count ?? 0] as [string, number]).sort(([a], [b]) => (a < b ? -1 : 1));
      const wrong = diff(want, got);
      if (wrong.length) out.push(`n${node.index} channels/subscription_count: ${wrong.slice(0, 4).join("; ")}${wrong.length > 4 ? ` (+${wrong.length - 4})` : ""}`);
      for (let r = 0; r < PRESENCE; r++) {
        const ch = `presence-chaos-${r}`;
        const listedUsers = ((await restGet(node.port, app, `/channels/${ch}/users`, 3000)).body.users as { id: string }[]).map((u) => u.id).sort().join(",");
        const wantUsers = [...(users.get(ch) ?? [])].sort().join(",");
        if (listedUsers !== wantUsers) out.push(`n${node.index} ${ch} users: ${setDiff(wantUsers, listedUsers)}`);
      }
    }
    for (const s of sinks) {
      if (s.closedAt !== undefined) continue;
      for (const ch of s.users.keys()) {
        const view = (s.view(ch) ?? []).sort().join(",");
        const wantUsers = [...(users.get(ch) ?? [])].sort().join(",");
        if (view !== wantUsers) out.push(`${s.label}'s view of ${ch}: ${setDiff(wantUsers, view)}${s.anomalies.length ? ` [${s.anomalies.slice(-3).join("; ")}]` : ""}`);
      }
    }
    return out;
  };
  /**
   * Nodes that still refuse a publish. A node back from a bus outage answers 503 until every peer
   * it heard before it is heard again or a node timeout passed (a peer killed just before the
   * outage is only given up then): that is recovery, not a verify-phase failure. The probe
   * channel has no subscribers, so it adds no deliveries to check.
   */
  const publishRefusals = async (): Promise<string[]> => {
    const out: string[] = [];
    for (const node of nodes) {
      const status = await sdks.get(node)!.trigger("chaos-probe", "probe", {}).then((res) => res.status, (e: { status?: number; message?: string }) => e.status ?? e.message ?? "error");
      if (status !== 200) out.push(`n${node.index} refuses publishes (${status})`);
    }
    return out;
  };
  const clientsSettled = () =>
    slots.every(Boolean) && reconnecting.size === 0 &&
    pjs.every((p) => p.client.connection.state === "connected" && p.sink && p.channels.every((c) => p.sink!.subs.has(c.name)));

  /** Deliveries of the given events to the sockets that were subscribed when each was sent and are still open. */
  const deliveries = (events: Sent[]) => {
    let expected = 0;
    const missing: string[] = [];
    for (const e of events) {
      for (const s of sinks) {
        if (s === e.from || s.closedAt !== undefined) continue;
        const since = s.subs.get(e.channel);
        if (since === undefined || since >= e.at) continue;
        expected++;
        if (!s.seen.get(e.channel)?.has(e.id)) missing.push(`${e.id} on ${e.channel} to ${s.label}`);
      }
    }
    return { expected, missing };
  };

  /** A kill or freeze overlapping [from, to] on this node, or on any node when the socket's node is not known (pusher-js). */
  const nodeFaultDuring = (node: number | undefined, from: number, to: number) =>
    faultLog.some((f) => f.kind !== "bus" && (node === undefined || f.node === node) && f.at <= to && f.at + f.ms >= from);

  /**
   * Every 2xx publish of the list against its live subscribers. A live subscriber is a socket
   * whose subscription to the channel was acknowledged before the request was sent, that stayed
   * open until --live-slack-ms after the 2xx arrived (a reconnect is a new Sink, so an old socket
   * has closed), and whose node was neither killed nor frozen in that interval; for pusher-js,
   * behind the balancer, no node may have been. The slack is there because a frame can still be on
   * its way from the bus when the 2xx arrives, and a node frozen then holds it. `subs` keeps the
   * latest acknowledgement, so a socket that left the channel after the send (and maybe rejoined)
   * is not counted. Bus restarts exclude nothing: a 2xx while the bus cannot carry the event is
   * exactly what this check is for.
   */
  const liveCheck = (list: Publish[]) => {
    let checked = 0;
    let expected = 0;
    let missingDeliveries = 0;
    const lost: { publish: Publish; missing: { label: string; node?: number; subscribedAt: number }[]; reached: number }[] = [];
    for (const p of list) {
      if (p.outcome !== "2xx") continue;
      checked++;
      const until = p.answeredAt + o.liveSlackMs;
      const missing: (typeof lost)[number]["missing"] = [];
      let reached = 0;
      for (const s of sinks) {
        const since = s.subs.get(p.channel);
        if (since === undefined || since >= p.sentAt) continue;
        if (s.closedAt !== undefined && s.closedAt <= until) continue;
        if (nodeFaultDuring(s.node, p.sentAt, until)) continue;
        expected++;
        if (s.seen.get(p.channel)?.has(p.id)) reached++;
        else missing.push({ label: s.label, node: s.node, subscribedAt: since });
      }
      missingDeliveries += missing.length;
      if (missing.length) lost.push({ publish: p, missing, reached });
    }
    return { checked, expected, missingDeliveries, lost };
  };
  /** Where a lost publish stands to the bus restarts: during one, how long after one ended, or neither. */
  const busContext = (p: Publish) => {
    const bus = faultLog.filter((f) => f.kind === "bus");
    if (bus.some((f) => f.at <= p.answeredAt && f.at + f.ms >= p.sentAt)) return "during a bus restart";
    const after = bus.filter((f) => f.at + f.ms < p.sentAt).map((f) => p.sentAt - (f.at + f.ms));
    const since = after.length ? Math.min(...after) : Infinity;
    return since <= 15_000 ? `${since} ms after a bus restart ended` : "no bus restart in the 15 s before";
  };
  /** One lost publish as the report gives it: what was sent where and when, who missed it, the faults around it. */
  const describeLost = (l: ReturnType<typeof liveCheck>["lost"][number]) => {
    const p = l.publish;
    return {
      round: p.round, phase: p.phase, channel: p.channel, id: p.id, publishedTo: `n${p.node}`, status: p.status,
      sent: clock(p.sentAt), answered: clock(p.answeredAt), answeredAfterMs: p.answeredAt - p.sentAt,
      reached: l.reached, missingAt: l.missing.length,
      // A socket on the node that answered needs no bus: a loss there is not the bus's.
      missingOnThatNode: l.missing.filter((m) => m.node === p.node).length,
      missing: l.missing.slice(0, 8).map((m) => `${m.label}${m.node === undefined ? " (via balancer)" : ""} subscribed ${clock(m.subscribedAt)}`),
      bus: busContext(p),
      faultsAround: faultLog.filter((f) => f.at <= p.answeredAt + 10_000 && f.at + f.ms >= p.sentAt - 10_000)
        .map((f) => `${f.kind}${f.node ?? ""} ${clock(f.at)}-${clock(f.at + f.ms)}`),
    };
  };
  const lostPublishes: ReturnType<typeof describeLost>[] = [];
  const LOST_IN_REPORT = 300;
  const live = { checked: 0, expected: 0, lost: 0, missingDeliveries: 0 };
  /** Non-2xx answers by code ("503", "timeout", "error") over the run. */
  const refusals: Record<string, number> = {};

  /** This round's faults: "mm:ss.mmm kind[node] duration", for a failure's explanation. */
  const roundFaults = () => faultLog.filter((f) => f.round === round).map((f) => `${clock(f.at)} ${f.kind}${f.node ?? ""} ${f.ms} ms`).join(", ");

  /** For the first wrong member view: what that socket heard about the user, and what the user did. */
  const explanations: string[] = [];
  const explain = (problems: string[]) => {
    const m = problems.map((t) => /^(\S+)'s view of (\S+): missing (\S+)|^(\S+)'s view of (\S+): extra (\S+)/.exec(t)).find(Boolean);
    if (!m || explanations.length > 5) return;
    const [label, ch, users] = m[1] ? [m[1], m[2]!, m[3]!] : [m[4]!, m[5]!, m[6]!];
    const user = users.split(",")[0]!;
    const sink = sinks.find((s) => s.label === label && s.closedAt === undefined);
    const text = [`round ${round}: ${label}'s view of ${ch} about ${user}:`,
      `  it heard: ${(sink?.memberLog ?? []).filter((l) => l.endsWith(`${user}@${ch}`)).join(", ") || "nothing"}`,
      `  the user: ${(userLog.get(user) ?? []).join(", ")}`,
      `  faults: ${roundFaults()}`].join("\n");
    explanations.push(text);
    console.log(text);
  };
  const webhookChecks = new Map<string, boolean>();
  let failed = false;
  try {
    for (round = 1; Date.now() < deadline; round++) {
      const roundStart = Date.now();
      const before = { ...stats };
      // 1. fault phase: traffic, churn and faults
      phase = "fault";
      const faultEnd = roundStart + o.faultSeconds * 1000;
      const faults: string[] = [];
      const faultLoop = (async () => {
        await sleep(1000 + random(3000));
        while (Date.now() < faultEnd - 3000 && faults.length < 2) {
          faults.push(await injectFault());
          await sleep(1000 + random(3000));
        }
      })();
      const until = () => Date.now() >= faultEnd;
      await Promise.all([
        faultLoop,
        loop(50, until, publishOnce),
        loop(50, until, clientEventOnce),
        loop(400, until, presenceChurnOnce),
        loop(1000, until, reconnectChurnOnce),
      ]);
      await drainPublishes();
      const faultsOver = Date.now();

      // 2. recovery: everything is up (the fault loop has ended); clients reconnect; poll until the cluster agrees.
      let converged = -1;
      let last: string[] = [];
      const limit = faultsOver + o.convergeSeconds * 1000;
      while (Date.now() < limit) {
        if (clientsSettled()) {
          last = await mismatches().catch((e: Error) => [`REST check failed: ${e.message}`]);
          if (last.length === 0) last = await publishRefusals();
          if (last.length === 0) {
            converged = Date.now() - faultsOver;
            break;
          }
        } else last = ["clients still reconnecting"];
        await sleep(250);
      }
      if (converged < 0) explain(last);
      if (converged < 0) failures.push(`round ${round} (${faults.join(", ")}): no agreement ${o.convergeSeconds} s after the faults: ${last.slice(0, 6).join(" | ")}${last.length > 6 ? ` (+${last.length - 6})` : ""}`);

      // 3. verify phase: traffic only; every delivery must arrive exactly once.
      phase = "verify";
      const verifyEnd = Date.now() + o.verifySeconds * 1000;
      await Promise.all([loop(50, () => Date.now() >= verifyEnd, publishOnce), loop(50, () => Date.now() >= verifyEnd, clientEventOnce)]);
      await drainPublishes();
      const roundSent = sent.filter((e) => e.round === round);
      let check = deliveries(roundSent.filter((e) => e.phase === "verify"));
      for (let waited = 0; check.missing.length && waited < 10_000; waited += 250) {
        await sleep(250);
        check = deliveries(roundSent.filter((e) => e.phase === "verify"));
      }
      if (check.missing.length) failures.push(`round ${round}: ${check.missing.length} of ${check.expected} deliveries lost outside fault windows (e.g. ${check.missing.slice(0, 3).join("; ")})`);
      const faultCheck = deliveries(roundSent.filter((e) => e.phase === "fault"));

      // Every 2xx publish of the round, fault phase included, against its live subscribers. The
      // check runs after recovery, so a delivery may be seconds late; it waits until the last
      // answer's slack has passed (a socket still open then counts as open through it), then gives
      // late frames up to 5 s more.
      const roundPublishes = publishes.filter((p) => p.round === round);
      const lastAnswer = Math.max(0, ...roundPublishes.map((p) => p.answeredAt));
      await sleep(Math.max(0, lastAnswer + o.liveSlackMs + 50 - Date.now()));
      let liveResult = liveCheck(roundPublishes);
      for (let waited = 0; liveResult.lost.length && waited < 5000; waited += 250) {
        await sleep(250);
        liveResult = liveCheck(roundPublishes);
      }
      const roundRefusals: Record<string, number> = {};
      for (const p of roundPublishes) {
        if (p.outcome === "2xx") continue;
        const key = p.outcome === "status" ? String(p.status) : p.outcome;
        roundRefusals[key] = (roundRefusals[key] ?? 0) + 1;
        refusals[key] = (refusals[key] ?? 0) + 1;
      }
      live.checked += liveResult.checked;
      live.expected += liveResult.expected;
      live.lost += liveResult.lost.length;
      live.missingDeliveries += liveResult.missingDeliveries;
      for (const l of liveResult.lost) if (lostPublishes.length < LOST_IN_REPORT) lostPublishes.push(describeLost(l));
      if (liveResult.lost.length) {
        const during = liveResult.lost.filter((l) => busContext(l.publish) === "during a bus restart").length;
        const first = describeLost(liveResult.lost[0]!);
        failures.push(`round ${round} (${faults.join(", ")}): ${liveResult.lost.length} of ${liveResult.checked} publishes answered 2xx did not reach every live subscriber ` +
          `(${liveResult.missingDeliveries} of ${liveResult.expected} live deliveries missing; ${during} of these publishes sent during a bus restart); ` +
          `e.g. ${first.id} on ${first.channel} to ${first.publishedTo} at ${first.sent}, ${first.status} after ${first.answeredAfterMs} ms, missing at ${first.missingAt} (${first.missing.slice(0, 3).join(", ")}), reached ${first.reached}; ${first.bus}; faults: ${first.faultsAround.join(", ") || "none"}`);
      }
      const after = await mismatches().catch((e: Error) => [`REST check failed: ${e.message}`]);
      if (converged >= 0 && after.length) failures.push(`round ${round}: agreement lost again during the verify phase: ${after.slice(0, 4).join(" | ")}`);

      // Webhooks: the latest occupied/vacated of each channel matches it now. A SIGKILLed node takes
      // its unsent webhooks (memory queue) with it, so a mismatch only fails in a round without a
      // kill, for a channel that matched at the previous check.
      await sleep(1000);
      readHooks();
      const { counts } = expectedState();
      const hookMismatches: string[] = [];
      for (const [ch, hook] of lastHook) {
        const ok = (hook.name === "channel_occupied") === ((counts.get(ch) ?? 0) > 0);
        if (!ok) {
          hookMismatches.push(`${ch} last ${hook.name}`);
          if (!faults.some((f) => f.startsWith("kill")) && webhookChecks.get(ch) !== false) failures.push(`round ${round} (${faults.join(", ")}): ${ch}'s last webhook is ${hook.name} but it has ${counts.get(ch) ?? 0} subscribers (last webhooks: ${hookHistory.get(ch)?.join(", ")}; faults: ${roundFaults()})`);
        }
        webhookChecks.set(ch, ok);
      }
      for (const ch of counts.keys()) if ((counts.get(ch) ?? 0) > 0 && !lastHook.has(ch)) hookMismatches.push(`${ch} never occupied`);

      const dups = sinks.reduce((a, s) => a + s.duplicates.length, 0);
      const row = {
        round, faults, convergedMs: converged, convergedWithinNodeTimeout: converged >= 0 && converged <= o.nodeTimeout * 1000,
        published: stats.published - before.published, publishFailures: stats.publishFailures - before.publishFailures,
        clientEvents: stats.clientEvents - before.clientEvents, presenceRejoins: stats.presenceRejoins - before.presenceRejoins, reconnects: stats.reconnects - before.reconnects,
        faultWindowLost: faultCheck.missing.length, faultWindowExpected: faultCheck.expected, verifyLost: check.missing.length, verifyExpected: check.expected,
        live2xxChecked: liveResult.checked, live2xxLost: liveResult.lost.length, liveDeliveriesExpected: liveResult.expected, liveDeliveriesMissing: liveResult.missingDeliveries,
        refused: roundRefusals,
        // 2xx answers that took over a second: mostly requests a frozen node held and answered after SIGCONT.
        slow2xx: roundPublishes.filter((p) => p.outcome === "2xx" && p.answeredAt - p.sentAt > 1000).length,
        // Publishes sent to a node while it was frozen, by outcome: whether that path was exercised.
        toFrozenNode: countBy(roundPublishes.filter((p) => faultLog.some((f) => f.kind === "stop" && f.node === p.node && f.at <= p.sentAt && f.at + f.ms >= p.sentAt)), (p) => p.outcome),
        duplicatesSoFar: dups, webhookMismatches: hookMismatches.length, mismatchesLeft: converged < 0 ? last.length : 0,
      };
      rounds.push(row);
      console.log(`round ${String(round).padStart(2)}: ${faults.join(", ").padEnd(24)} converged ${converged < 0 ? "NO" : `${(converged / 1000).toFixed(1)} s`}` +
        `  published ${row.published} (${row.publishFailures} failed), client ev ${row.clientEvents}, rejoins ${row.presenceRejoins}, reconnects ${row.reconnects}` +
        `  lost in faults ${row.faultWindowLost}/${row.faultWindowExpected}, lost after ${row.verifyLost}/${row.verifyExpected}` +
        `, 2xx lost at live subscribers ${row.live2xxLost}/${row.live2xxChecked} (${row.liveDeliveriesMissing}/${row.liveDeliveriesExpected} deliveries), refused ${formatCounts(roundRefusals)}, 2xx after >1 s ${row.slow2xx}, to a frozen node ${formatCounts(row.toFrozenNode)}` +
        `, dup ${dups}, webhook mismatches ${row.webhookMismatches}`);
      for (const e of errors.splice(0)) failures.push(`round ${round}: ${e}`);
      // Sent events of finished rounds are no longer needed (duplicates are caught per socket).
      sent.splice(0, sent.length);
      publishes.splice(0, publishes.length);
      for (let k = sinks.length - 1; k >= 0; k--) if (sinks[k]!.closedAt !== undefined && sinks[k]!.duplicates.length === 0) sinks.splice(k, 1);
    }
  } catch (error) {
    failed = true;
    failures.push(`aborted: ${(error as Error).stack ?? error}`);
  }
  stopping = true;
  const dupList = sinks.flatMap((s) => s.duplicates.map((d) => `${d.id} on ${d.channel} to ${s.label}`));
  if (dupList.length) failures.push(`${dupList.length} events delivered twice to one socket (e.g. ${dupList.slice(0, 5).join("; ")})`);
  const crashes = nodes.map((nd) => /unhandled|uncaught|FATAL|panic/i.test(nd.output()) ? nd.output().split("\n").filter((l) => /unhandled|uncaught|FATAL|panic/i.test(l)).slice(0, 3) : []).flat();
  for (const slot of slots) slot?.peer.close();
  for (const p of pjs) p.client.disconnect();
  const outputs = nodes.map((nd) => nd.output());
  await balancer.close();
  await cleanup();

  const report = {
    kind: "chaos", bus: o.bus, runtime: o.runtime, options: o, machine: machine(),
    git: { commit: git(["rev-parse", "--short", "HEAD"]), dirty: git(["status", "--porcelain"]) !== "" },
    startedAt: new Date(start).toISOString(), minutes: Math.round((Date.now() - start) / 600) / 100,
    totals: stats, faults: faultLog, rounds, serverErrorLines: crashes, failures, explanations, ok: failures.length === 0,
    liveSubscriberCheck: {
      rule: `a 2xx REST publish must reach every socket subscribed (acknowledged) before the request was sent that stayed open, and whose node was neither killed nor frozen (any node, for pusher-js), until ${o.liveSlackMs} ms after the answer; non-2xx answers are counted, not failed`,
      ...live, refused: refusals, lostPublishes, lostPublishesOmitted: Math.max(0, live.lost - lostPublishes.length),
    },
    ...(failures.length ? { nodeOutput: outputs.map((t) => t.slice(-3000)) } : {}),
  };
  const file = writeReport(`chaos-${o.bus}`, report, o.out || undefined);
  const conv = rounds.map((r) => r.convergedMs as number).filter((ms) => ms >= 0);
  console.log(`\n${rounds.length} rounds, ${faultLog.length} faults (${["kill", "stop", "bus"].map((k) => `${faultLog.filter((f) => f.kind === k).length} ${k}`).join(", ")}); agreement after ${conv.length ? `${Math.min(...conv)}-${Math.max(...conv)} ms` : "n/a"}`);
  console.log(`live-subscriber check: ${live.lost} of ${live.checked} publishes answered 2xx missed a live subscriber (${live.missingDeliveries} of ${live.expected} deliveries); refused (not failed): ${formatCounts(refusals)}`);
  if (crashes.length) console.log(`server log lines worth a look:\n  ${crashes.join("\n  ")}`);
  console.log(failures.length ? `\nFAIL (${failures.length}):\n  ${failures.slice(0, 30).join("\n  ")}` : `\nPASS: ${rounds.length} rounds in ${report.minutes} min; all ${live.checked} publishes answered 2xx reached every live subscriber (${live.expected} deliveries)`);
  console.log(`report: ${file}`);
  return failures.length || failed ? 1 : 0;
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

/** "503 ×12, timeout ×3" or "none". */
function formatCounts(counts: Record<string, number>): string {
  const parts = Object.entries(counts).map(([k, v]) => `${k} ×${v}`);
  return parts.length ? parts.join(", ") : "none";
}

function diff(want: [string, number][], got: [string, number][]): string[] {
  const w = new Map(want);
  const g = new Map(got);
  const out: string[] = [];
  for (const ch of new Set([...w.keys(), ...g.keys()])) if (w.get(ch) !== g.get(ch)) out.push(`${ch} ${g.get(ch) ?? "absent"} (want ${w.get(ch) ?? "absent"})`);
  return out;
}

function setDiff(want: string, got: string): string {
  const w = new Set(want ? want.split(",") : []);
  const g = new Set(got ? got.split(",") : []);
  const missing = [...w].filter((x) => !g.has(x));
  const extra = [...g].filter((x) => !w.has(x));
  return `${missing.length ? `missing ${missing.slice(0, 5).join(",")}` : ""}${extra.length ? ` extra ${extra.slice(0, 5).join(",")}` : ""}`.trim();
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(2);
});
