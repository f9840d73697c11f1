// A cluster backend that stops answering (SIGSTOP: its sockets stay open, nothing is refused,
// nothing answers), for every adapter driver. With a small CLUSTER_REQUEST_TIMEOUT_MS, a new
// handshake, a subscribe and a close on a node still answer within about the deadline (the node
// serves its own sockets as in any outage), and after SIGCONT the cluster converges: a publish
// from one node reaches a subscriber on the other, and both nodes' REST answers agree.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, dataOf, rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import { signedRequest } from "../helpers/rest.ts";
import type { TestServer } from "../helpers/server.ts";
import { ACK, MEMBER_REMOVED, eventually, subscribe, subscribed, uniquePrefix, type ClusterOptions } from "./cluster.ts";

/** The deadline the nodes run with, and what an answer may take beyond it (process, scheduling). */
export const DEADLINE_MS = 500;
const MARGIN_MS = 2500;

export interface HungBus {
  /** Server settings that point nodes at it. */
  env: Record<string, string>;
  /** SIGSTOP / SIGCONT of every backend process. */
  signal(sig: NodeJS.Signals): void;
  destroy(): Promise<void>;
}

export interface HungBackendDriver {
  label: string;
  available: boolean;
  /** Starts a private backend (stopping the shared one would break other test files). */
  bus(): Promise<HungBus>;
  start(size: number, options: ClusterOptions): Promise<TestServer[]>;
}

/** Resolves with `promise` if it settles within `ms`, else fails naming `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function users(server: TestServer, channel: string): Promise<string> {
  const res = await sdk(server).get({ path: `/channels/${channel}/users` });
  return ((await res.json()).users as { id: string }[]).map((u) => u.id).sort().join();
}

async function subscriptionCount(server: TestServer, channel: string): Promise<number> {
  const res = await sdk(server).get({ path: `/channels/${channel}`, params: { info: "subscription_count" } });
  return (await res.json()).subscription_count ?? 0;
}

export function describeHungBackend(driver: HungBackendDriver): void {
  describe.skipIf(!driver.available)(`${driver.label} adapter: the backend hangs (SIGSTOP) under a running cluster`, () => {
    let bus: HungBus | undefined;
    let nodes: TestServer[] = [];
    const clients: RawClient[] = [];
    const track = (c: RawClient) => (clients.push(c), c);
    beforeAll(async () => {
      bus = await driver.bus();
      nodes = await driver.start(2, {
        prefix: uniquePrefix("hung"),
        nodeTimeout: 5,
        env: { ...bus.env, CLUSTER_REQUEST_TIMEOUT_MS: String(DEADLINE_MS) },
      });
    }, 60_000);
    afterAll(async () => {
      bus?.signal("SIGCONT"); // never leave a stopped server behind, whatever failed
      for (const c of clients) c.close();
      await Promise.all(nodes.map((n) => n.stop()));
      if (process.env.DEBUG_CLUSTER) for (const n of nodes) console.log(n.output());
      await bus?.destroy();
    });

    it("answers handshakes, subscribes and closes within the deadline, and converges after SIGCONT", async () => {
      const [A, B] = nodes as [TestServer, TestServer];
      const ch = "presence-hung";
      const watcher = track(await rawClient(A));
      await subscribe(A, watcher, ch, { user_id: "watcher" });
      const leaver = track(await rawClient(A));
      await subscribe(A, leaver, ch, { user_id: "leaver" });
      const reader = track(await subscribed(A, "public-hung"));
      await eventually(async () => (await users(B, ch)) === "leaver,watcher", 10_000, "members to settle");

      bus!.signal("SIGSTOP");
      const bound = DEADLINE_MS + MARGIN_MS;
      // A new socket: its handshake registers the connection with the adapter.
      const joiner = track(await within(rawClient(A), bound, "a handshake while the backend is hung"));
      // Its subscribe joins through the adapter and reads the members.
      joiner.send({ event: "pusher:subscribe", data: { channel: "public-hung-new" } });
      const answer = await within(joiner.next((f) => f.channel === "public-hung-new", bound), bound, "a subscribe while the backend is hung");
      expect([ACK, "pusher:subscription_error"]).toContain(answer.event);
      // A close: the socket's cleanup leaves the channel, and this node's members hear it.
      leaver.close();
      const removed = await within(watcher.next(byEvent(MEMBER_REMOVED, ch), bound), bound, "a close while the backend is hung");
      expect(dataOf(removed)).toEqual({ user_id: "leaver" });
      // The API: a publish the bus does not take is refused within the deadline (never a 200 for
      // an event the other node cannot get), and so is a read that needs the cluster.
      const publish = () => signedRequest(A, "POST", "/events", JSON.stringify({ name: "hung", channel: "public-hung", data: "{}", idempotency_key: "hung-1" }));
      const refused = await within(publish(), bound, "a publish while the backend is hung");
      expect([refused.status, refused.headers.get("retry-after")]).toEqual([503, "1"]);
      expect((await within(signedRequest(A, "GET", `/channels/${ch}/users`), bound, "a read while the backend is hung")).status).toBe(503);

      bus!.signal("SIGCONT");
      // Converges: B's view of the cluster equals what happened on A meanwhile.
      // Reads are refused (503) until the node is back on the bus: "not yet" here.
      await eventually(async () => (await users(B, ch).catch(() => "")) === "watcher", 30_000, "the leave to reach the cluster");
      const late = track(await rawClient(A));
      await eventually(async () => {
        const frame = await late.next((f) => f.channel === "public-hung-late", 3000).catch(() => undefined);
        if (frame === undefined) late.send({ event: "pusher:subscribe", data: { channel: "public-hung-late" } });
        return frame?.event === ACK;
      }, 30_000, "a subscribe to be acknowledged after the backend is back");
      const count = (channel: string) => subscriptionCount(B, channel).catch(() => -1);
      await eventually(async () => (await count("public-hung")) === 1 && (await count("public-hung-late")) === 1,
        30_000, "B's REST answers to agree with A's sockets");
      // The bus works again: a publish from B reaches A's subscriber.
      await eventually(async () => {
        const id = Math.random().toString(36).slice(2);
        if (!(await sdk(B).trigger("public-hung", "after", { id }).then(() => true, () => false))) return false;
        return (await reader.next((f) => f.event === "after" && dataOf(f).id === id, 2000).then(() => true, () => false));
      }, 30_000, "a publish from B to reach A's subscriber");
      // The publish refused during the hang, retried with its key, is taken now and delivered once.
      await eventually(async () => (await publish()).status === 200, 30_000, "the refused publish's retry to be taken");
      expect((await publish()).json).toEqual({ duplicate: true });
      for (const node of [A, B]) expect(node.process.exitCode).toBeNull();
    }, 120_000);
  });
}
