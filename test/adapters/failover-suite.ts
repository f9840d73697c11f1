// Node and bus failures, for every adapter driver: a SIGKILLed node's sockets disappear from the
// cluster after its heartbeat expires (member_removed once, never back); a SIGTERMed node hands
// over at once; a restart of the bus/store leaves every node serving its own clients, and the
// cluster state is rebuilt when it is back. Each driver's test file runs it against its backend.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, connected, dataOf, idempotent, once, pusherClient, rawClient, sdk, type Frame, type RawClient } from "../helpers/clients.ts";
import { signedRequest } from "../helpers/rest.ts";
import type { TestServer } from "../helpers/server.ts";
import { MEMBER_ADDED, MEMBER_REMOVED, eventually, nodeIdOf, received, subscribe, subscribed, uniquePrefix } from "./cluster.ts";
import type { ClusterDriver } from "./cluster-suite.ts";

/** A backend of the test's own that it can kill and start again. */
export interface OwnBus {
  /** Server settings that point nodes at it. */
  env: Record<string, string>;
  start(): Promise<void>;
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export interface FailoverDriver extends ClusterDriver {
  /** What the backend still holds that names the node (empty once it is cleaned up). */
  traces(prefix: string, nodeId: string): Promise<string[]>;
  /** Starts a private backend for the restart test; undefined skips that test. */
  ownBus?: () => Promise<OwnBus>;
  busName: string;
}

async function users(server: TestServer, channel: string): Promise<string[]> {
  const res = await sdk(server).get({ path: `/channels/${channel}/users` });
  return ((await res.json()).users as { id: string }[]).map((u) => u.id).sort();
}

async function subscriptionCount(server: TestServer, channel: string): Promise<number> {
  const res = await sdk(server).get({ path: `/channels/${channel}`, params: { info: "subscription_count" } });
  return (await res.json()).subscription_count ?? 0;
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** The nodes' CLUSTER_REQUEST_TIMEOUT_MS in the restart test. */
const REQUEST_TIMEOUT_MS = 1000;

const statusOf = (error: { status?: number }) => error.status ?? -1;

const publishDuring = (server: TestServer) =>
  signedRequest(server, "POST", "/events", JSON.stringify({ name: "during", channel: "public-restart", data: "{}", idempotency_key: "k-during" }));

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  const result = await work();
  return { result, ms: Date.now() - started };
}

export function describeFailover(driver: FailoverDriver): void {
  describe.skipIf(!driver.available)(`${driver.label} adapter: a node killed with SIGKILL`, () => {
    const prefix = uniquePrefix("kill");
    let nodes: TestServer[] = [];
    const clients: { close(): void }[] = [];
    beforeAll(async () => {
      nodes = await driver.start(3, { prefix, nodeTimeout: 2 });
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      await Promise.all(nodes.map((n) => n.stop()));
    });

    it("stops being counted once its heartbeat expires: member_removed once, counts drop, no stale member returns", async () => {
      const [A, B, C] = nodes as [TestServer, TestServer, TestServer];
      const ch = "presence-kill";
      const pa = pusherClient(A, { presence: { user_id: "u1" } });
      clients.push({ close: () => pa.disconnect() });
      await connected(pa);
      const pac = pa.subscribe(ch) as any;
      await once(pac, "pusher:subscription_succeeded");
      const rb = await rawClient(B);
      clients.push(rb);
      await subscribe(B, rb, ch, { user_id: "u2" });
      // The doomed node holds u3 twice, and a public subscriber.
      const rc1 = await rawClient(C);
      await subscribe(C, rc1, ch, { user_id: "u3" });
      const rc2 = await rawClient(C);
      await subscribe(C, rc2, ch, { user_id: "u3" });
      expect(dataOf(await rb.next(byEvent(MEMBER_ADDED, ch))).user_id).toBe("u3");
      clients.push(await subscribed(C, "public-kill"), await subscribed(A, "public-kill"));
      expect(await users(A, ch)).toEqual(["u1", "u2", "u3"]);
      expect(await subscriptionCount(B, "public-kill")).toBe(2);
      const deadId = nodeIdOf(C);

      const pusherSaw = once(pac, "pusher:member_removed", 20_000);
      await C.kill("SIGKILL");
      expect(dataOf(await rb.next(byEvent(MEMBER_REMOVED, ch), 20_000))).toEqual({ user_id: "u3" });
      expect((await pusherSaw).id).toBe("u3");
      expect(pac.members.count).toBe(2);

      for (const node of [A, B]) {
        expect(await users(node, ch)).toEqual(["u1", "u2"]);
        expect(await subscriptionCount(node, ch)).toBe(2);
        expect(await subscriptionCount(node, "public-kill")).toBe(1);
      }
      // Exactly once: nothing more arrives before a later event from the sweeping nodes.
      for (const node of [A, B]) {
        await sdk(node).trigger(ch, "marker", {});
        await rb.next(byEvent("marker", ch));
      }
      expect(received(rb, MEMBER_REMOVED, ch)).toEqual([]);
      expect(received(rb, MEMBER_ADDED, ch)).toEqual([]);

      // The dead node is gone from the backend for good, so nothing of it can come back.
      expect(await driver.traces(prefix, deadId)).toEqual([]);
      const late = pusherClient(B, { presence: { user_id: "u4" } });
      clients.push({ close: () => late.disconnect() });
      const lc = late.subscribe(ch) as any;
      await once(lc, "pusher:subscription_succeeded");
      expect(Object.keys(lc.members.members).sort()).toEqual(["u1", "u2", "u4"]);
    });
  });

  describe.skipIf(!driver.available)(`${driver.label} adapter: a node stopped with SIGTERM`, () => {
    const prefix = uniquePrefix("term");
    let nodes: TestServer[] = [];
    beforeAll(async () => {
      // A one-minute heartbeat timeout: only the graceful handover can explain a prompt removal.
      nodes = await driver.start(2, { prefix, nodeTimeout: 60 });
    });
    afterAll(() => Promise.all(nodes.map((n) => n.stop())));

    it("closes its sockets with 4200, removes its members at once, and the clients rejoin elsewhere", async () => {
      const [A, B] = nodes as [TestServer, TestServer];
      const ch = "presence-term";
      const watcher = await rawClient(A);
      await subscribe(A, watcher, ch, { user_id: "stay" });
      const leaving = await rawClient(B);
      await subscribe(B, leaving, ch, { user_id: "mover" });
      await watcher.next(byEvent(MEMBER_ADDED, ch));
      const leavingId = nodeIdOf(B);

      const stopped = B.stop();
      expect((await leaving.closed).code).toBe(4200);
      expect(dataOf(await watcher.next(byEvent(MEMBER_REMOVED, ch), 10_000))).toEqual({ user_id: "mover" });
      await stopped;
      expect(await users(A, ch)).toEqual(["stay"]);
      expect(await driver.traces(prefix, leavingId)).toEqual([]);
      // Reconnecting (as a load balancer would route it) to the surviving node.
      const back = await rawClient(A);
      await subscribe(A, back, ch, { user_id: "mover" });
      expect(dataOf(await watcher.next(byEvent(MEMBER_ADDED, ch)))).toEqual({ user_id: "mover", user_info: null });
      expect(await users(A, ch)).toEqual(["mover", "stay"]);
      watcher.close();
      back.close();
    });
  });

  describe.skipIf(!driver.available)(`${driver.label} adapter: a node frozen (SIGSTOP) past its heartbeat timeout`, () => {
    const prefix = uniquePrefix("freeze");
    let nodes: TestServer[] = [];
    const clients: RawClient[] = [];
    beforeAll(async () => {
      nodes = await driver.start(3, { prefix, nodeTimeout: 1 });
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      nodes[2]?.process.kill("SIGCONT");
      await Promise.all(nodes.map((n) => n.stop()));
    });

    it("sweeps no live node when it resumes from pauses around the timeout", async () => {
      const [A, B, C] = nodes as [TestServer, TestServer, TestServer];
      const ch = "presence-pauses";
      const watchers: RawClient[] = [];
      for (const [node, user] of [[A, "pa"], [B, "pb"], [C, "pc"]] as const) {
        const client = await rawClient(node);
        clients.push(client);
        watchers.push(client);
        await subscribe(node, client, ch, { user_id: user });
      }
      await eventually(async () => (await users(A, ch)).join() === "pa,pb,pc", 10_000, "members to settle");
      // Paused for most of the timeout, its ticker stalls: on SIGCONT the live nodes' heartbeats of
      // that time are still unread. Were it to judge them then, it would sweep "pa" and "pb".
      // Bus traffic queued meanwhile (~2 MB per pause) makes the frozen node read the backlog over
      // many turns of its event loop, so its ticker fires before the heartbeats are read.
      const payload = "x".repeat(8_000);
      const batch = Array.from({ length: 10 }, (_, i) => ({ channel: "public-backlog", name: "filler", data: { i, payload } }));
      for (const ms of [600, 750, 900, 600, 750, 900]) {
        C.process.kill("SIGSTOP");
        const started = Date.now();
        await Promise.all(Array.from({ length: 25 }, () => sdk(A).triggerBatch(batch)));
        await new Promise((r) => setTimeout(r, Math.max(0, ms - (Date.now() - started))));
        C.process.kill("SIGCONT");
        await new Promise((r) => setTimeout(r, 1200));
      }
      await eventually(async () => (await users(A, ch)).join() === "pa,pb,pc", 10_000, "the paused node to be back");
      const removedLive = watchers.flatMap((w) => w.frames)
        .filter((f) => f.channel === ch && f.event === MEMBER_REMOVED && ["pa", "pb"].includes(dataOf(f).user_id));
      expect(removedLive).toEqual([]);
      for (const node of nodes) expect(await users(node, ch)).toEqual(["pa", "pb", "pc"]);
      expect(C.output()).not.toMatch(/node \S+ stopped sending heartbeats/);
    }, 60_000);

    it("is swept and comes back: every socket's member list, rebuilt from its frames, ends equal to the cluster's", async () => {
      const [A, B, C] = nodes as [TestServer, TestServer, TestServer];
      const ch = "presence-freeze";
      const views: { client: RawClient; ack: Frame }[] = [];
      const join = async (node: TestServer, user: string) => {
        const client = await rawClient(node);
        clients.push(client);
        views.push({ client, ack: await subscribe(node, client, ch, { user_id: user }) });
      };
      await join(A, "a1");
      await join(B, "b1");
      await join(C, "c1");
      await join(C, "c2");
      await eventually(async () => (await users(A, ch)).join() === "a1,b1,c1,c2", 10_000, "members to settle");

      C.process.kill("SIGSTOP");
      // The other nodes sweep the frozen one: its members are announced as removed.
      await eventually(async () => (await users(A, ch)).join() === "a1,b1", 15_000, "the frozen node to be swept");
      C.process.kill("SIGCONT");
      await eventually(async () => (await users(A, ch)).join() === "a1,b1,c1,c2", 15_000, "the frozen node to re-register");
      const expected = ["a1", "b1", "c1", "c2"];
      const viewOf = ({ client, ack }: { client: RawClient; ack: Frame }) => {
        const ids = new Set<string>(dataOf(ack).presence.ids as string[]);
        for (const f of client.frames) {
          if (f.channel !== ch) continue;
          if (f.event === MEMBER_ADDED) ids.add(dataOf(f).user_id);
          else if (f.event === MEMBER_REMOVED) ids.delete(dataOf(f).user_id);
        }
        return [...ids].sort().join();
      };
      try {
        await eventually(() => views.every((v) => viewOf(v) === expected.join()), 10_000, "every socket's view to match");
      } finally {
        for (const node of nodes) expect(await users(node, ch)).toEqual(expected);
        expect(views.map(viewOf)).toEqual(views.map(() => expected.join()));
      }
    }, 60_000);
  });

  describe.skipIf(!driver.ownBus)(`${driver.label} adapter: ${driver.busName} restarts under a running cluster`, () => {
    let bus: OwnBus;
    let nodes: TestServer[] = [];
    const clients: RawClient[] = [];
    beforeAll(async () => {
      bus = await driver.ownBus!();
      await bus.start();
      // A node timeout above the reconnect back-off's spread (NATS's is jittered: the nodes come back
      // up to ~1.5 s apart, more on a loaded machine): otherwise the first node back may rightly take
      // the other for dead and sweep it, and that sweep's member events are not what this case checks.
      nodes = await driver.start(2, { prefix: uniquePrefix("restart"), nodeTimeout: 4, env: { ...bus.env, CLUSTER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
    });
    afterAll(async () => {
      for (const c of clients) c.close();
      await Promise.all(nodes.map((n) => n.stop()));
      if (process.env.DEBUG_CLUSTER) for (const n of nodes) console.log(n.output());
      await bus?.destroy();
    });

    it("keeps serving local clients during the outage and resynchronises the cluster afterwards", async () => {
      const [A, B] = nodes as [TestServer, TestServer];
      const ch = "presence-restart";
      const a = await rawClient(A);
      await subscribe(A, a, ch, { user_id: "u1" });
      const b = await rawClient(B);
      await subscribe(B, b, ch, { user_id: "u2" });
      const pubA = await subscribed(A, "public-restart");
      const pubB = await subscribed(B, "public-restart");
      clients.push(a, b, pubA, pubB);
      expect(await users(B, ch)).toEqual(["u1", "u2"]);

      await bus.kill();
      // Right after the kill, before the node noticed: the publish waits for the bus at most the
      // request deadline, then is refused too.
      const early = await timed(() => sdk(A).trigger("public-restart", "during", { n: 0 }, idempotent("early")).then(() => 200, statusOf));
      expect(early.result).toBe(503);
      expect(early.ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2000);
      await eventually(() => A.output().includes("connection lost") && B.output().includes("connection lost"), 10_000, "nodes to notice the outage");
      // A publish the bus cannot take is refused with 503, Retry-After and a JSON error, at once,
      // and reaches nobody (not even this node's subscribers): its retry will reach everyone once.
      const refused = await publishDuring(A);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(refused.json.error).toMatch(/cluster backend .* unreachable/);
      // Reads that need the cluster are refused too, never answered with this node's view.
      expect((await signedRequest(A, "GET", `/channels/${ch}/users`)).status).toBe(503);
      // Local clients are still served: new subscriptions, presence.
      const joiner = await rawClient(A);
      clients.push(joiner);
      const ack = dataOf(await subscribe(A, joiner, ch, { user_id: "u3" }));
      expect(ack.presence.ids).toContain("u3");

      await bus.start();
      // Until the node is back on the bus its reads are refused (503), which is "not yet" here.
      // Each node is back on its own schedule (A may reconnect after B): both must answer alike.
      for (const node of [B, A]) {
        await eventually(async () => (await users(node, ch).catch(() => [])).join() === "u1,u2,u3", 20_000, "presence state to be rebuilt");
      }
      await eventually(async () => (await subscriptionCount(B, "public-restart").catch(() => -1)) === 2, 10_000, "subscriptions to be rebuilt");
      // The refused publish, retried with its key once the bus is back, reaches both nodes once;
      // retried again, it is answered as a duplicate.
      await eventually(async () => (await publishDuring(A)).status === 200, 20_000, "the retried publish to be taken");
      // B may still wait a moment for A to be heard on the bus again (503 until then).
      await eventually(async () => (await publishDuring(B)).status !== 503, 20_000, "B to take publishes again");
      expect((await publishDuring(B)).json).toEqual({ duplicate: true });
      // The bus works again in both directions.
      await sdk(A).trigger("public-restart", "after", { n: 2 });
      expect(dataOf(await pubB.next(byEvent("after", "public-restart"), 10_000))).toEqual({ n: 2 });
      await sdk(B).trigger("public-restart", "after", { n: 3 });
      expect(dataOf(await pubA.next((f) => f.event === "after" && dataOf(f).n === 3, 10_000))).toEqual({ n: 3 });
      expect([received(pubA, "during").length, received(pubB, "during").length]).toEqual([1, 1]);
      // Only what changed during the outage is announced, once, and only to the nodes that missed it.
      expect(dataOf(await b.next(byEvent(MEMBER_ADDED, ch), 10_000))).toEqual({ user_id: "u3", user_info: null });
      await sdk(A).trigger(ch, "marker", {});
      await Promise.all([a, b].map((c) => c.next(byEvent("marker", ch))));
      expect(received(b, MEMBER_ADDED, ch)).toEqual([]);
      expect(received(a, MEMBER_ADDED, ch).map((f) => dataOf(f).user_id)).toEqual(["u2", "u3"]);
      expect(received(a, MEMBER_REMOVED, ch)).toEqual([]);
      // One log line per state change, and no crash.
      for (const node of [A, B]) {
        expect(count(node.output(), "connection lost")).toBe(1);
        expect(count(node.output(), "connection restored")).toBe(1);
        expect(node.process.exitCode).toBeNull();
      }
    });
  });
}
