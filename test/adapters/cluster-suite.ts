// The cluster contract every adapter driver must meet: three Switchboard processes sharing a
// prefix behave exactly like one server. Events, presence, counts, channel lists, terminate,
// server-to-user, watchlist, cache and quotas are all cluster-wide. Clients are spread over the
// nodes; REST calls go to yet another node. Each driver's test file runs it against its backend.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, connected, dataOf, idempotent, once, pusherClient, rawClient, sdk } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import {
  MEMBER_ADDED, MEMBER_REMOVED, eventually, received, signIn, subscribe, subscribed, uniquePrefix, getJson, marker,
  type ClusterOptions,
} from "./cluster.ts";

export interface ClusterDriver {
  label: string;
  /** False skips the suite (the backend is missing on a developer's machine). */
  available: boolean;
  start(size: number, options: ClusterOptions): Promise<TestServer[]>;
}

export function describeCluster(driver: ClusterDriver): void {
  describe.skipIf(!driver.available)(`${driver.label} adapter: three nodes behave as one server`, () => {
    let nodes: TestServer[] = [];
    let A: TestServer, B: TestServer, C: TestServer;
    const open: { close(): void }[] = [];
    const track = <T extends { close(): void }>(c: T): T => (open.push(c), c);

    beforeAll(async () => {
      nodes = await driver.start(3, {
        prefix: uniquePrefix("three"),
        env: { APP_ENABLE_WATCHLIST_EVENTS: "true", APP_ENABLE_USER_AUTHENTICATION: "false" },
      });
      [A, B, C] = nodes as [TestServer, TestServer, TestServer];
    });
    afterAll(async () => {
      for (const c of open) c.close();
      await Promise.all(nodes.map((n) => n.stop()));
    });

    it("delivers a REST event to pusher-js subscribers on every node exactly once", async () => {
      const clients = [A, B, C].map((n) => track({ p: pusherClient(n), close() { this.p.disconnect(); } }));
      const counts = [0, 0, 0];
      await Promise.all(clients.map(async ({ p }, i) => {
        await connected(p);
        const channel = p.subscribe("news");
        await once(channel, "pusher:subscription_succeeded");
        channel.bind("headline", () => counts[i]!++);
      }));
      const markers = clients.map(({ p }) => once(p.channel("news")!, "marker"));
      await sdk(B).trigger("news", "headline", { text: "hello" });
      await sdk(B).trigger("news", "marker", {});
      await Promise.all(markers);
      expect(counts).toEqual([1, 1, 1]);
    });

    it("honours socket_id exclusion for a socket on another node, and delivers batches everywhere", async () => {
      const [a, b, c] = await Promise.all([A, B, C].map((n) => subscribed(n, "excl").then(track)));
      await sdk(A).trigger("excl", "ev", { n: 1 }, { socket_id: b!.socketId! });
      await marker(A, "excl", [a!, b!, c!]);
      expect(received(a!, "ev").length).toBe(1);
      expect(received(b!, "ev").length).toBe(0);
      expect(received(c!, "ev").length).toBe(1);

      const b1 = track(await subscribed(A, "batch-1"));
      const b2 = track(await subscribed(B, "batch-2"));
      await sdk(C).triggerBatch([
        { channel: "batch-1", name: "one", data: "1" },
        { channel: "batch-2", name: "two", data: "2" },
      ]);
      expect(dataOf(await b1.next(byEvent("one", "batch-1")))).toBe(1);
      expect(dataOf(await b2.next(byEvent("two", "batch-2")))).toBe(2);
    });

    it("relays client events to the other nodes' subscribers once, never back to the sender", async () => {
      const [a, b, c] = await Promise.all([A, B, C].map((n) => subscribed(n, "private-chat").then(track)));
      a!.send({ event: "client-typing", channel: "private-chat", data: { who: "a" } });
      a!.send({ event: "client-done", channel: "private-chat", data: {} });
      await Promise.all([b!, c!].map((x) => x.next(byEvent("client-done", "private-chat"))));
      expect(received(b!, "client-typing").length).toBe(1);
      expect(received(c!, "client-typing").length).toBe(1);
      // The sender's own events never come back, not even as a bus echo.
      c!.send({ event: "client-ack", channel: "private-chat", data: {} });
      await a!.next(byEvent("client-ack", "private-chat"));
      expect(received(a!, "client-typing").length + received(a!, "client-done").length).toBe(0);
    });

    it("unions presence members over nodes, de-duplicated by user_id, with one member_added/removed per user", async () => {
      const ch = "presence-room";
      const a1 = track(await rawClient(A));
      await subscribe(A, a1, ch, { user_id: "u1", user_info: { name: "One" } });
      const b = track(await rawClient(B));
      const ackB = dataOf(await subscribe(B, b, ch, { user_id: "u2", user_info: { name: "Two" } }));
      expect(ackB.presence.count).toBe(2);
      expect(ackB.presence.hash).toEqual({ u1: { name: "One" }, u2: { name: "Two" } });
      expect(dataOf(await a1.next(byEvent(MEMBER_ADDED, ch)))).toEqual({ user_id: "u2", user_info: { name: "Two" } });

      // A second socket of u1, on a third node: no member_added anywhere.
      const c1 = track(await rawClient(C));
      const ackC = dataOf(await subscribe(C, c1, ch, { user_id: "u1", user_info: { name: "Other" } }));
      expect(ackC.presence.count).toBe(2);
      expect(ackC.presence.hash.u1).toEqual({ name: "One" });

      // pusher-js on yet another socket sees the union too.
      const p = pusherClient(C, { presence: { user_id: "u3", user_info: { name: "Three" } } });
      track({ close: () => p.disconnect() });
      const pc = p.subscribe(ch) as any;
      await once(pc, "pusher:subscription_succeeded");
      expect(pc.members.count).toBe(3);
      expect(pc.members.get("u2")).toEqual({ id: "u2", info: { name: "Two" } });

      for (const node of [A, B, C]) {
        expect((await getJson(node, `/channels/${ch}/users`)).users.map((u: any) => u.id).sort()).toEqual(["u1", "u2", "u3"]);
        expect(await getJson(node, `/channels/${ch}`, { info: "user_count,subscription_count" }))
          .toEqual({ occupied: true, user_count: 3, subscription_count: 4 });
      }
      await marker(C, ch, [b]);
      expect(received(b, MEMBER_ADDED, ch).map((f) => dataOf(f).user_id)).toEqual(["u3"]);

      // u1 leaves node A but is still on C: no member_removed.
      a1.close();
      await eventually(async () => (await getJson(B, `/channels/${ch}`, { info: "subscription_count" })).subscription_count === 3);
      await marker(A, ch, [b]);
      expect(received(b, MEMBER_REMOVED, ch)).toEqual([]);
      // Its last socket goes: member_removed exactly once, on every node.
      const pusherSaw = once(pc, "pusher:member_removed");
      c1.close();
      expect(dataOf(await b.next(byEvent(MEMBER_REMOVED, ch)))).toEqual({ user_id: "u1" });
      expect((await pusherSaw).id).toBe("u1");
      await marker(C, ch, [b]);
      expect(received(b, MEMBER_REMOVED, ch)).toEqual([]);
      expect(pc.members.count).toBe(2);
    });

    it("answers channel lists, counts and occupancy with cluster totals", async () => {
      const subs = await Promise.all([A, A, B, C].map((n) => subscribed(n, "counted").then(track)));
      for (const node of [A, B, C]) {
        const list = await getJson(node, "/channels", { info: "subscription_count", filter_by_prefix: "counted" });
        expect(list.channels).toEqual({ counted: { subscription_count: 4 } });
        expect(await getJson(node, "/channels/counted", { info: "subscription_count" })).toEqual({ occupied: true, subscription_count: 4 });
      }
      const only = track(await subscribed(A, "lonely"));
      expect((await getJson(C, "/channels/lonely")).occupied).toBe(true);
      only.close();
      await eventually(async () => (await getJson(C, "/channels/lonely")).occupied === false, 10_000, "lonely vacated");
      expect((await getJson(B, "/channels", { filter_by_prefix: "lonely" })).channels).toEqual({});
      subs[0]!.close();
      await eventually(async () => (await getJson(B, "/channels/counted", { info: "subscription_count" })).subscription_count === 3);
    });

    it("terminates a user's connections on every node and sends server-to-user events across nodes", async () => {
      const onA = track(await signIn(A, "t1"));
      const onC = track(await signIn(C, "t1"));
      const bystander = track(await signIn(B, "t2"));
      for (const [node, client] of [[A, onA], [C, onC]] as const) await subscribe(node, client, "#server-to-user-t1");
      await sdk(A).sendToUser("t1", "notice", { hi: true });
      expect(dataOf(await onC.next(byEvent("notice")))).toEqual({ hi: true });
      expect(dataOf(await onA.next(byEvent("notice")))).toEqual({ hi: true });
      await sdk(B).terminateUserConnections("t1");
      expect((await onA.closed).code).toBe(4009);
      expect((await onC.closed).code).toBe(4009);
      bystander.send({ event: "pusher:ping", data: {} });
      await bystander.next(byEvent("pusher:pong"));
    });

    it("reports watchlist online/offline for users signed in on other nodes", async () => {
      const watcher = track(await signIn(A, "w1", ["w2"]));
      expect(dataOf(await watcher.next(byEvent("pusher_internal:watchlist_events"))).events).toEqual([{ name: "offline", user_ids: ["w2"] }]);
      const w2 = await signIn(B, "w2");
      expect(dataOf(await watcher.next(byEvent("pusher_internal:watchlist_events"))).events).toEqual([{ name: "online", user_ids: ["w2"] }]);
      const w2Again = await signIn(C, "w2");
      w2.close();
      const late = track(await signIn(C, "w3", ["w2"]));
      expect(dataOf(await late.next(byEvent("pusher_internal:watchlist_events"))).events).toEqual([{ name: "online", user_ids: ["w2"] }]);
      w2Again.close();
      expect(dataOf(await watcher.next(byEvent("pusher_internal:watchlist_events"))).events).toEqual([{ name: "offline", user_ids: ["w2"] }]);
    });

    it("delivers a publish retried with the same idempotency key once, whichever node the retry reaches", async () => {
      const [a, b, c] = await Promise.all([A, B, C].map((n) => subscribed(n, "idem").then(track)));
      const key = `order-${Math.random().toString(36).slice(2)}`;
      const first = await sdk(A).trigger("idem", "paid", { n: 1 }, idempotent(key));
      expect(await first.json()).toEqual({});
      // The retry lands on other nodes, as a balancer would send it: answered, not delivered again.
      for (const node of [B, C]) {
        const again = await sdk(node).trigger("idem", "paid", { n: 1 }, idempotent(key));
        expect(again.status).toBe(200);
        expect(again.headers.get("idempotent-replayed")).toBe("true");
        expect(await again.json()).toEqual({ duplicate: true });
      }
      // A batch keyed by item: the delivered item is skipped, the new one goes out.
      const batch = await sdk(B).triggerBatch([
        { channel: "idem", name: "paid", data: JSON.stringify({ n: 1 }), idempotency_key: key } as any,
        { channel: "idem", name: "paid", data: JSON.stringify({ n: 2 }), idempotency_key: `${key}-2` } as any,
      ]);
      expect(await batch.json()).toEqual({});
      await marker(C, "idem", [a!, b!, c!]);
      for (const x of [a!, b!, c!]) expect(received(x, "paid").map((f) => dataOf(f).n)).toEqual([1, 2]);
    });

    it("keeps a cache channel's last event cluster-wide", async () => {
      await sdk(A).trigger("cache-prices", "tick", { p: 42 });
      const c = track(await rawClient(C));
      await subscribe(C, c, "cache-prices");
      expect(dataOf(await c.next(byEvent("tick", "cache-prices")))).toEqual({ p: 42 });
      const info = await getJson(B, "/channels/cache-prices", { info: "cache" });
      expect(JSON.parse(info.cache.data)).toEqual({ p: 42 });
      expect(info.cache.ttl).toBeGreaterThan(0);
    });
  });

  describe.skipIf(!driver.available)(`${driver.label} adapter: cluster-wide connection quota`, () => {
    let nodes: TestServer[] = [];
    beforeAll(async () => {
      nodes = await driver.start(2, { prefix: uniquePrefix("quota"), env: { APP_MAX_CONNECTIONS: "2" } });
    });
    afterAll(() => Promise.all(nodes.map((n) => n.stop())));

    it("refuses the connection over the app's quota on whichever node it lands", async () => {
      const [A, B] = nodes as [TestServer, TestServer];
      const first = await rawClient(A);
      const second = await rawClient(B);
      const third = await rawClient(A, undefined, { established: false });
      const closed = await third.closed;
      expect(closed.code).toBe(4004);
      second.close();
      await second.closed;
      await eventually(async () => {
        const again = await rawClient(B, undefined, { established: false });
        const outcome = await Promise.race([
          again.next(byEvent("pusher:connection_established"), 3000).then(() => "open", () => "none"),
          again.closed.then(() => "closed"),
        ]);
        again.close();
        return outcome === "open";
      }, 10_000, "a freed slot to be reusable on another node");
      first.close();
    });
  });

  describe.skipIf(!driver.available)(`${driver.label} adapter: cluster-wide REST rate limit`, () => {
    let nodes: TestServer[] = [];
    beforeAll(async () => {
      nodes = await driver.start(3, { prefix: uniquePrefix("rate"), env: { APP_MAX_BACKEND_EVENTS_PER_SECOND: "5" } });
    });
    afterAll(() => Promise.all(nodes.map((n) => n.stop())));

    it("lets the nodes together through no more than the app's limit", async () => {
      // 15 events in one burst, 5 to each node. Counted per node all 15 would pass; shared, at most
      // 5 per one-second window pass (10 if the burst straddles a window boundary).
      const outcomes = await Promise.allSettled(
        Array.from({ length: 15 }, (_, i) => sdk(nodes[i % 3]!).trigger("rated", "ev", { i })),
      );
      const passed = outcomes.filter((o) => o.status === "fulfilled").length;
      const refused = outcomes.filter((o) => o.status === "rejected" && (o.reason as { status?: number }).status === 429).length;
      expect(passed + refused).toBe(15);
      expect(passed).toBeGreaterThan(0);
      expect(passed).toBeLessThanOrEqual(10);
    });
  });
}
