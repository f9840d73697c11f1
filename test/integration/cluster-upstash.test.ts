// The upstash driver: three Switchboard processes talk to Redis only through the Upstash REST API
// (our bridge in front of the real Redis) and must behave as one server. Channels with commas
// matter here because the Upstash client's SSE framing splits at commas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, dataOf, rawClient, sdk } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import { startUpstashBridge, type UpstashBridge } from "../helpers/upstash-bridge.ts";
import {
  MEMBER_ADDED, MEMBER_REMOVED, eventually, reachable, received, requireService, startCluster, subscribe, subscribed, uniquePrefix,
  getJson, marker,
} from "../adapters/cluster.ts";
import { describeAppBuses } from "../adapters/app-bus-suite.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379 (behind the Upstash bridge)");



describe.skipIf(!redisUp)("upstash adapter: three nodes over the REST API behave as one server", () => {
  let bridge: UpstashBridge | undefined;
  let nodes: TestServer[] = [];
  let A: TestServer, B: TestServer, C: TestServer;
  const open: { close(): void }[] = [];
  const track = <T extends { close(): void }>(c: T): T => (open.push(c), c);

  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: "redis://127.0.0.1:6379" });
    nodes = await startCluster(3, {
      prefix: uniquePrefix("upstash"),
      env: {
        ADAPTER_DRIVER: "upstash",
        UPSTASH_REDIS_REST_URL: bridge.url,
        UPSTASH_REDIS_REST_TOKEN: bridge.token,
        // Nothing may reach Redis over TCP: a wrong REDIS_URL proves the driver only uses REST.
        REDIS_URL: "redis://127.0.0.1:1",
      },
    });
    [A, B, C] = nodes as [TestServer, TestServer, TestServer];
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await Promise.all(nodes.map((n) => n.stop()));
    await bridge?.close();
  });

  it("connects every node through the REST API", () => {
    for (const node of nodes) expect(node.output()).toMatch(/upstash adapter: connected/);
  });

  it("delivers REST events on channels with commas to every node exactly once, honouring socket_id", async () => {
    for (const ch of ["a,b", "private-a,b"]) {
      const [a, b, c] = await Promise.all([A, B, C].map((n) => subscribed(n, ch).then(track)));
      await sdk(B).trigger(ch, "ev", { text: "x,y", n: [1, 2] });
      await sdk(A).trigger(ch, "skip", {}, { socket_id: b!.socketId! });
      await marker(A, ch, [a!, b!, c!]);
      await marker(B, ch, [a!, b!, c!]);
      for (const client of [a!, b!, c!]) {
        expect(received(client, "ev", ch).map(dataOf)).toEqual([{ text: "x,y", n: [1, 2] }]);
      }
      expect([a!, b!, c!].map((x) => received(x, "skip", ch).length)).toEqual([1, 0, 1]);
    }
  });

  it("relays client events on a comma channel to the other nodes once", async () => {
    const ch = "private-chat,1";
    const [a, b, c] = await Promise.all([A, B, C].map((n) => subscribed(n, ch).then(track)));
    a!.send({ event: "client-typing", channel: ch, data: { who: "a,b" } });
    a!.send({ event: "client-done", channel: ch, data: {} });
    await Promise.all([b!, c!].map((x) => x.next(byEvent("client-done", ch))));
    expect(received(b!, "client-typing", ch).map(dataOf)).toEqual([{ who: "a,b" }]);
    expect(received(c!, "client-typing", ch).length).toBe(1);
    expect(received(a!, "client-typing", ch).length).toBe(0);
  });

  it("unions presence members over nodes with one member_added/removed per user", async () => {
    const ch = "presence-room,1";
    const a1 = track(await rawClient(A));
    await subscribe(A, a1, ch, { user_id: "u1", user_info: { name: "One" } });
    const b = track(await rawClient(B));
    const ackB = dataOf(await subscribe(B, b, ch, { user_id: "u2", user_info: { name: "Two" } }));
    expect(ackB.presence.count).toBe(2);
    expect(ackB.presence.hash).toEqual({ u1: { name: "One" }, u2: { name: "Two" } });
    expect(dataOf(await a1.next(byEvent(MEMBER_ADDED, ch)))).toEqual({ user_id: "u2", user_info: { name: "Two" } });

    // A second socket of u1 on a third node: no member_added anywhere.
    const c1 = track(await rawClient(C));
    expect(dataOf(await subscribe(C, c1, ch, { user_id: "u1", user_info: { name: "Other" } })).presence.count).toBe(2);
    for (const node of [A, B, C]) {
      expect((await getJson(node, `/channels/${encodeURIComponent(ch)}/users`)).users.map((u: any) => u.id).sort()).toEqual(["u1", "u2"]);
    }
    await marker(C, ch, [b]);
    expect(received(b, MEMBER_ADDED, ch)).toEqual([]);

    // u1 leaves A but is still on C: no member_removed; its last socket goes: exactly one.
    a1.close();
    await eventually(async () => (await getJson(B, `/channels/${encodeURIComponent(ch)}`, { info: "subscription_count" })).subscription_count === 2);
    await marker(A, ch, [b]);
    expect(received(b, MEMBER_REMOVED, ch)).toEqual([]);
    c1.close();
    expect(dataOf(await b.next(byEvent(MEMBER_REMOVED, ch)))).toEqual({ user_id: "u1" });
    await marker(C, ch, [b]);
    expect(received(b, MEMBER_REMOVED, ch)).toEqual([]);
  });

  it("answers channel counts and occupancy with cluster totals", async () => {
    const subs = await Promise.all([A, A, B, C].map((n) => subscribed(n, "counted,x").then(track)));
    for (const node of [A, B, C]) {
      const list = await getJson(node, "/channels", { info: "subscription_count", filter_by_prefix: "counted" });
      expect(list.channels).toEqual({ "counted,x": { subscription_count: 4 } });
      expect(await getJson(node, "/channels/counted%2Cx", { info: "subscription_count" })).toEqual({ occupied: true, subscription_count: 4 });
    }
    subs[0]!.close();
    await eventually(async () => (await getJson(B, "/channels/counted%2Cx", { info: "subscription_count" })).subscription_count === 3);
  });
});

describe.skipIf(!redisUp)("upstash adapter: one SSE stream per app served", () => {
  let bridge: UpstashBridge | undefined;
  beforeAll(async () => {
    bridge = await startUpstashBridge({ redisUrl: "redis://127.0.0.1:6379" });
  });
  afterAll(() => bridge?.close());
  describeAppBuses({
    label: "upstash",
    available: redisUp,
    start: (size, options) => startCluster(size, {
      ...options,
      env: { ADAPTER_DRIVER: "upstash", UPSTASH_REDIS_REST_URL: bridge!.url, UPSTASH_REDIS_REST_TOKEN: bridge!.token, ...options.env },
    }),
  });
});
