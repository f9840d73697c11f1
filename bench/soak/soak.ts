// npm run soak: bounded churn against one server process, then a check after every cycle that
// the server is back where it started (no sockets, channels, members, timers or descriptors left,
// memory flat). Traffic goes only to 127.0.0.1; every loop has a count or a deadline.
import { existsSync } from "node:fs";
import path from "node:path";
import PusherServer from "pusher";
import { wsUrl } from "../lib/client.ts";
import { cpuSeconds, rssKb } from "../lib/proc.ts";
import { BENCH_APP, ROOT, buildNode, spawnServer, type BenchServer } from "../lib/server.ts";
import { Publisher } from "../lib/sign.ts";
import { fdCount, git, inBatches, machine, mb, parseFlags, plainGet, restGet, sleep, theilSen, writeReport } from "./lib.ts";
import { Peer } from "./peer.ts";
import { probeReader, type Probe } from "./probe.ts";

const HELP = `Usage: npm run soak -- [options]

  --minutes 10            total run time; cycles start until it is reached (the last one finishes)
  --runtime node          node, deno, bun or binary (node and binary are built first unless --no-build)
  --connections 300       sockets per cycle (each on a public, a private and a presence channel)
  --cycle-seconds 30      churn per cycle (reconnects, presence leave/join, REST and client events)
  --heap-slope-kb 128     leak threshold: post-GC heap growth per cycle over the later cycles
  --rss-slope-kb 1024     leak threshold: post-GC RSS growth per cycle over the later cycles
  --out FILE              JSON report (default bench/results/soak-<runtime>-<date>.json)
`;

const o = parseFlags(process.argv.slice(2), {
  minutes: 10, runtime: "node", connections: 300, cycleSeconds: 30, heapSlopeKb: 128, rssSlopeKb: 1024, out: "", build: true,
}, HELP);

const PUBLIC = 10;
const PRESENCE = 5;
const app = BENCH_APP;

interface CycleRow {
  cycle: number;
  connects: number;
  published: number;
  clientEvents: number;
  presenceRejoins: number;
  duplicates: number;
  lost: number;
  settleMs: number;
  connections: number;
  channels: number;
  members: number;
  timers: number;
  fds: number;
  rss: number;
  heapUsed: number;
  failures: string[];
}

/** Which channels socket i uses, and as which presence member (pairs of sockets share a user at the low end). */
function plan(i: number, n: number) {
  const pair = Math.floor(i / 2);
  return {
    pub: `soak-pub-${i % PUBLIC}`,
    priv: `private-soak-${pair}`,
    presence: `presence-soak-${pair % PRESENCE}`,
    member: { user_id: i < n / 5 ? `u${pair}` : `u${i}`, user_info: { i } },
    /** Stable sockets never churn: every event on their channels must reach them exactly once. */
    stable: i < n / 5,
  };
}

async function main(): Promise<number> {
  if (o.runtime === "node" && o.build) buildNode();
  if (o.runtime === "binary" && (o.build || !existsSync(path.join(ROOT, "dist/switchboard")))) {
    const { execFileSync } = await import("node:child_process");
    execFileSync("npm", ["run", "build:binary", "--silent"], { cwd: ROOT, stdio: "inherit" });
  }
  const probePath = path.join(ROOT, "bench/soak/probe.mjs");
  const runtimeArgs = { node: ["--expose-gc", "--import", probePath], deno: ["--v8-flags=--expose-gc", "--preload", probePath], bun: ["--preload", probePath], binary: [] }[o.runtime];
  if (!runtimeArgs) throw new Error(`unknown runtime ${o.runtime}`);
  const server = await spawnServer({
    runtime: o.runtime,
    nodeBin: process.execPath,
    runtimeArgs,
    env: {
      ...(o.runtime === "binary" ? { BUN_OPTIONS: `--preload ${probePath}` } : {}),
      APP_ENABLE_CLIENT_MESSAGES: "true",
      APP_MAX_CLIENT_EVENTS_PER_SECOND: "100000",
      APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: "1000",
      APP_MAX_CONNECTIONS: "-1",
      APP_MAX_BACKEND_EVENTS_PER_SECOND: "-1",
      APP_MAX_READ_REQUESTS_PER_SECOND: "-1",
    },
  });
  const pid = server.pid!;
  const probe = probeReader(pid, server.output);
  console.log(`soak: ${server.command} (pid ${pid}) on 127.0.0.1:${server.port}; ${o.connections} sockets, ${o.cycleSeconds} s cycles, ${o.minutes} min`);
  const start = Date.now();
  const deadline = start + o.minutes * 60_000;
  const cpu0 = cpuSeconds(pid);
  const baseline = await settle(server, probe, 0);
  console.log(`baseline: timers ${baseline.probe.timers}, fds ${baseline.fds}, rss ${mb(baseline.probe.rss)} MB, heap ${mb(baseline.probe.heapUsed)} MB`);
  const rows: CycleRow[] = [];
  const failures: string[] = [];
  let crashed = "";
  try {
    for (let cycle = 1; Date.now() < deadline; cycle++) {
      const row = await runCycle(server, cycle);
      const after = await settle(server, probe, cycle);
      Object.assign(row, {
        settleMs: after.ms, connections: after.connections, channels: after.channels, members: after.members,
        timers: after.probe.timers, fds: after.fds, rss: after.probe.rss, heapUsed: after.probe.heapUsed,
      });
      row.failures.push(...after.failures);
      // Timers and descriptors come back exactly: the server's own intervals are there from the start.
      if (after.probe.timers > baseline.probe.timers) row.failures.push(`${after.probe.timers - baseline.probe.timers} timer(s) more than at start`);
      if (after.fds > baseline.fds) row.failures.push(`${after.fds - baseline.fds} descriptor(s) more than at start`);
      rows.push(row);
      printRow(row);
      for (const f of row.failures) failures.push(`cycle ${cycle}: ${f}`);
      if (server.pid && Number.isNaN(rssKb(pid))) throw new Error("server process is gone");
    }
  } catch (error) {
    crashed = (error as Error).stack ?? String(error);
    failures.push(`aborted: ${(error as Error).message}`);
  }
  const cpu = cpuSeconds(pid) - cpu0;
  await server.stop();

  const verdict = trend(rows);
  failures.push(...verdict.failures);
  const report = {
    kind: "soak",
    runtime: o.runtime,
    command: server.command,
    options: o,
    machine: machine(),
    git: { commit: git(["rev-parse", "--short", "HEAD"]), dirty: git(["status", "--porcelain"]) !== "" },
    startedAt: new Date(start).toISOString(),
    minutes: Math.round((Date.now() - start) / 600) / 100,
    serverCpuSeconds: Math.round(cpu * 10) / 10,
    baseline: { timers: baseline.probe.timers, fds: baseline.fds, rss: baseline.probe.rss, heapUsed: baseline.probe.heapUsed, gc: baseline.probe.gc },
    cycles: rows,
    trend: verdict.trend,
    failures,
    ok: failures.length === 0,
    ...(crashed ? { error: crashed, serverOutput: server.output().slice(-4000) } : {}),
  };
  const file = writeReport(`soak-${o.runtime}`, report, o.out || undefined);
  console.log(`\ntrend over cycles ${verdict.trend.from}-${verdict.trend.to}: heap ${verdict.trend.heapKbPerCycle} KB/cycle (limit ${o.heapSlopeKb}), rss ${verdict.trend.rssKbPerCycle} KB/cycle (limit ${o.rssSlopeKb})`);
  console.log(failures.length ? `\nFAIL (${failures.length}):\n  ${failures.slice(0, 40).join("\n  ")}` : `\nPASS: ${rows.length} cycles in ${report.minutes} min`);
  console.log(`report: ${file}`);
  if (crashed) console.error(crashed);
  return failures.length ? 1 : 0;
}

/** One cycle: connect and subscribe everyone, churn for cycleSeconds, check, then close everyone. */
async function runCycle(server: BenchServer, cycle: number): Promise<CycleRow> {
  const n = o.connections;
  const url = wsUrl("127.0.0.1", server.port, app.key);
  const row: CycleRow = {
    cycle, connects: 0, published: 0, clientEvents: 0, presenceRejoins: 0, duplicates: 0, lost: 0, settleMs: 0,
    connections: 0, channels: 0, members: 0, timers: 0, fds: 0, rss: 0, heapUsed: 0, failures: [],
  };
  const peers: (Peer | undefined)[] = new Array(n);
  /** Every socket that was ever open this cycle (for duplicate and member-view checks). */
  const all: Peer[] = [];
  /** Which users each presence channel should list: user -> number of subscribed sockets. */
  const expected = new Map<string, Map<string, number>>();
  const join = (ch: string, user: string, d: number) => {
    const users = expected.get(ch) ?? new Map<string, number>();
    expected.set(ch, users);
    const c = (users.get(user) ?? 0) + d;
    if (c > 0) users.set(user, c);
    else users.delete(user);
  };
  const open = async (i: number) => {
    const p = plan(i, n);
    const peer = await Peer.connect(url, `c${cycle}s${i}`);
    all.push(peer);
    row.connects++;
    await Promise.all([peer.subscribe(app, p.pub), peer.subscribe(app, p.priv), peer.subscribe(app, p.presence, p.member)]);
    join(p.presence, p.member.user_id, 1);
    peers[i] = peer;
  };
  await inBatches([...Array(n).keys()], 50, open);

  // What the stable sockets must receive: ids published on their channels while they listened.
  const mustSee: { peer: Peer; channel: string; id: string }[] = [];
  const stableOn = new Map<string, Peer[]>();
  for (let i = 0; i < n; i++) {
    const p = plan(i, n);
    if (!p.stable) continue;
    for (const ch of [p.pub, p.priv, p.presence]) stableOn.set(ch, [...(stableOn.get(ch) ?? []), peers[i]!]);
  }
  const expect = (channel: string, id: string, except?: Peer) => {
    for (const peer of stableOn.get(channel) ?? []) if (peer !== except) mustSee.push({ peer, channel, id });
  };

  const sdk = new PusherServer({ appId: app.id, key: app.key, secret: app.secret, host: "127.0.0.1", port: String(server.port), useTLS: false });
  const fetchPublisher = new Publisher("127.0.0.1", server.port, app);
  const channelsOf = (i: number) => { const p = plan(i, n); return [p.pub, p.priv, p.presence]; };
  const errors: string[] = [];
  const note = (what: string) => (error: unknown) => { if (errors.length < 20) errors.push(`${what}: ${(error as Error).message}`); };
  const end = Date.now() + o.cycleSeconds * 1000;
  let seq = 0;
  const id = () => `c${cycle}-${++seq}`;
  const random = (k: number) => Math.floor(Math.random() * k);
  /** Sockets that are mid-churn: not picked by another loop until they are back. */
  const busy = new Set<number>();

  const loop = async (everyMs: number, body: () => Promise<void>) => {
    while (Date.now() < end) {
      const t = Date.now();
      await body().catch(note("loop"));
      await sleep(Math.max(0, everyMs - (Date.now() - t)));
    }
  };
  await Promise.all([
    // REST publishes: the SDK's trigger and triggerBatch, and the bench's signed fetch.
    loop(50, async () => {
      const channel = channelsOf(random(n))[random(3)]!;
      const k = seq % 10;
      if (k === 0) {
        const batch = Array.from({ length: 5 }, () => ({ channel: channelsOf(random(n))[random(3)]!, name: "soak", data: { id: id() } }));
        // Copied first: the SDK replaces each data object with its JSON string in place.
        const sent = batch.map((e) => [e.channel, e.data.id] as const);
        const res = await sdk.triggerBatch(batch);
        if (res.status !== 200) throw new Error(`batch answered ${res.status}`);
        for (const [channel, eid] of sent) expect(channel, eid);
        row.published += batch.length;
      } else if (k === 5) {
        const eid = id();
        const status = await fetchPublisher.trigger(channel, "soak", JSON.stringify({ id: eid }));
        if (status !== 200) throw new Error(`signed fetch answered ${status} ${fetchPublisher.lastError}`);
        expect(channel, eid);
        row.published++;
      } else {
        const eid = id();
        const res = await sdk.trigger(channel, "soak", { id: eid });
        if (res.status !== 200) throw new Error(`trigger answered ${res.status}`);
        expect(channel, eid);
        row.published++;
      }
    }),
    // Client events on private and presence channels (never echoed to the sender).
    loop(20, async () => {
      const i = random(n);
      const peer = peers[i];
      if (!peer || busy.has(i)) return;
      const ch = random(2) ? plan(i, n).priv : plan(i, n).presence;
      const eid = id();
      peer.clientEvent(ch, "client-soak", { id: eid });
      if (plan(i, n).stable) expect(ch, eid, peer);
      row.clientEvents++;
    }),
    // Presence leave and rejoin on a live socket (never a stable one: its view is checked at the end).
    loop(200, async () => {
      const i = Math.floor(n / 5) + random(n - Math.floor(n / 5));
      const peer = peers[i];
      if (!peer || busy.has(i)) return;
      busy.add(i);
      try {
        const p = plan(i, n);
        await peer.unsubscribe(p.presence);
        join(p.presence, p.member.user_id, -1);
        await sleep(random(200));
        await peer.subscribe(app, p.presence, p.member);
        join(p.presence, p.member.user_id, 1);
        row.presenceRejoins++;
      } finally {
        busy.delete(i);
      }
    }),
    // Connection churn: half close cleanly, half drop the TCP connection; then a new socket.
    loop(150, async () => {
      const i = Math.floor(n / 5) + random(n - Math.floor(n / 5));
      const peer = peers[i];
      if (!peer || busy.has(i)) return;
      busy.add(i);
      try {
        peers[i] = undefined;
        const p = plan(i, n);
        join(p.presence, p.member.user_id, -1);
        await (random(2) ? peer.close() : peer.terminate());
        await open(i);
      } finally {
        busy.delete(i);
      }
    }),
    // REST reads, as a dashboard would poll them.
    loop(500, async () => {
      await sdk.get({ path: "/channels", params: { info: "subscription_count" } });
      await sdk.get({ path: `/channels/presence-soak-${random(PRESENCE)}/users` });
    }),
  ]);
  for (const e of errors) row.failures.push(e);

  // Every expected delivery arrives (single process, no faults: a loss is a defect), bounded wait.
  const waitUntil = Date.now() + 15_000;
  let missing = mustSee.filter((m) => !m.peer.has(m.channel, m.id));
  while (missing.length && Date.now() < waitUntil) {
    await sleep(200);
    missing = missing.filter((m) => !m.peer.has(m.channel, m.id));
  }
  row.lost = missing.length;
  if (missing.length) row.failures.push(`${missing.length} of ${mustSee.length} deliveries to stable sockets lost (e.g. ${missing[0]!.id} on ${missing[0]!.channel})`);
  for (const p of all) {
    row.duplicates += p.duplicates.length;
    for (const a of p.memberAnomalies.slice(0, 3)) row.failures.push(a);
  }
  if (row.duplicates) row.failures.push(`${row.duplicates} events delivered twice to one socket`);

  // Presence: the server's list and every stable socket's own view match what the harness joined.
  for (let r = 0; r < PRESENCE; r++) {
    const ch = `presence-soak-${r}`;
    const want = [...(expected.get(ch)?.keys() ?? [])].sort().join(",");
    const got = await restGet(server.port, app, `/channels/${ch}/users`);
    const listed = (got.body.users as { id: string }[]).map((u) => u.id).sort().join(",");
    if (listed !== want) row.failures.push(`${ch}: server lists ${listed.split(",").length} users, expected ${want.split(",").length}`);
    for (const peer of stableOn.get(ch) ?? []) {
      const view = [...(peer.members.get(ch) ?? [])].sort().join(",");
      if (view !== want) row.failures.push(`${ch}: ${peer.label}'s member view differs from the server's (${view.split(",").length} vs ${want.split(",").length})`);
    }
  }

  // Close everyone: a third each with a close frame, without one, and after unsubscribing first.
  await inBatches(peers.map((p, i) => [p, i] as const), 50, async ([peer, i]) => {
    if (!peer) return;
    if (i % 3 === 0) await peer.terminate();
    else if (i % 3 === 1) await peer.close();
    else {
      await Promise.all(channelsOf(i).map((ch) => peer.unsubscribe(ch))).catch(note("unsubscribe"));
      await peer.close();
    }
  });
  return row;
}

/**
 * Waits (bounded) until the server reports no connections, channels or members, then lets it
 * go quiet (keep-alive sockets of the publishers time out after ~5 s) and takes the probe.
 */
async function settle(server: BenchServer, probe: (timeoutMs?: number) => Promise<Probe>, cycle: number) {
  const t0 = Date.now();
  const failures: string[] = [];
  let state = { connections: -1, channels: -1, members: -1 };
  for (;;) {
    const usage = await plainGet(server.port, "/usage");
    const channels = await restGet(server.port, app, "/channels");
    let members = 0;
    for (let r = 0; r < PRESENCE; r++) members += ((await restGet(server.port, app, `/channels/presence-soak-${r}/users`)).body.users as unknown[]).length;
    state = { connections: usage.body.connections as number, channels: Object.keys(channels.body.channels ?? {}).length, members };
    if (state.connections === 0 && state.channels === 0 && state.members === 0) break;
    if (Date.now() - t0 > 30_000) {
      failures.push(`not back to empty 30 s after closing: ${state.connections} connections, ${state.channels} channels, ${state.members} members`);
      break;
    }
    await sleep(250);
  }
  const ms = Date.now() - t0;
  await sleep(cycle === 0 ? 1000 : 6000);
  await probe(); // a first full GC lets finalizers run; the second one is measured
  await sleep(500);
  const measured = await probe();
  return { ...state, ms, failures, fds: fdCount(server.pid!), probe: measured };
}

/**
 * The leak verdict: Theil–Sen slope of post-GC heap and RSS over the later half of the cycles
 * (the first ones include JIT warm-up, pools filling and the allocator finding its size).
 */
function trend(rows: CycleRow[]) {
  const from = Math.max(2, Math.floor(rows.length / 2) + 1);
  const later = rows.filter((r) => r.cycle >= from);
  const heap = later.length >= 4 ? theilSen(later.map((r) => r.heapUsed)) / 1024 : NaN;
  const rss = later.length >= 4 ? theilSen(later.map((r) => r.rss)) / 1024 : NaN;
  const failures: string[] = [];
  if (later.length < 4) failures.push(`only ${rows.length} cycles: too few for a trend (run longer or shorten --cycle-seconds)`);
  if (heap > o.heapSlopeKb) failures.push(`leak: heap after GC grows ${heap.toFixed(0)} KB per cycle over cycles ${from}-${rows.length} (limit ${o.heapSlopeKb})`);
  if (rss > o.rssSlopeKb) failures.push(`leak: RSS after GC grows ${rss.toFixed(0)} KB per cycle over cycles ${from}-${rows.length} (limit ${o.rssSlopeKb})`);
  return { trend: { from, to: rows.length, heapKbPerCycle: Math.round(heap), rssKbPerCycle: Math.round(rss) }, failures };
}

const COLUMNS = ["cycle", "connects", "published", "client ev", "rejoins", "dup", "lost", "settle ms", "conns", "channels", "members", "timers", "fds", "rss MB", "heap MB", "ok"];
let printed = false;
function printRow(r: CycleRow): void {
  const cells = [r.cycle, r.connects, r.published, r.clientEvents, r.presenceRejoins, r.duplicates, r.lost, r.settleMs, r.connections, r.channels, r.members, r.timers, r.fds, mb(r.rss), mb(r.heapUsed), r.failures.length ? "FAIL" : "ok"];
  const width = (i: number) => Math.max(COLUMNS[i]!.length, 6);
  if (!printed) console.log(COLUMNS.map((c, i) => c.padStart(width(i))).join("  "));
  printed = true;
  console.log(cells.map((c, i) => String(c).padStart(width(i))).join("  "));
  for (const f of r.failures) console.log(`      ! ${f}`);
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(2);
});
