// A bus per app (issue #22), on every cluster driver: two nodes serve three apps; a node hears an
// app's bus only while it serves a socket of the app. Counted by the metric of bus messages
// received per node and app (horizontal_adapter_bus_messages_received_total). Each driver's test
// file runs it against its backend.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, dataOf, sdk, type RawClient } from "../helpers/clients.ts";
import { scrape, total } from "../helpers/observe.ts";
import type { TestServer } from "../helpers/server.ts";
import { eventually, subscribed, uniquePrefix } from "./cluster.ts";
import type { ClusterDriver } from "./cluster-suite.ts";

const APPS = ["bus-a", "bus-b", "bus-c"].map((id) => ({ id, key: `${id}-key`, secret: `${id}-secret` }));
const LINGER_MS = 500;
const METRIC = "switchboard_horizontal_adapter_bus_messages_received_total";

/** The node, speaking for one of the apps (the helpers take the app from the TestServer). */
function as(node: TestServer, app: (typeof APPS)[number]): TestServer {
  return { ...node, appId: app.id, key: app.key, secret: app.secret };
}

async function busReceived(node: TestServer, appId: string): Promise<number> {
  return total(await scrape(node), METRIC, `app_id="${appId}"`);
}

export function describeAppBuses(driver: ClusterDriver): void {
  describe.skipIf(!driver.available)(`${driver.label} adapter: a bus per app`, () => {
    let nodes: TestServer[] = [];
    const open: RawClient[] = [];
    const track = (c: RawClient) => (open.push(c), c);

    beforeAll(async () => {
      nodes = await driver.start(2, {
        prefix: uniquePrefix("appbus"),
        env: { APPS: JSON.stringify(APPS), CLUSTER_BUS_LINGER_MS: String(LINGER_MS), LOG_LEVEL: "debug" },
      });
    }, 60_000);
    afterAll(async () => {
      for (const c of open) c.close();
      await Promise.all(nodes.map((n) => n.stop()));
    });

    it("delivers an app's bus only to the nodes serving its sockets, from the first socket until a linger after the last", async () => {
      const [one, two] = nodes as [TestServer, TestServer];
      const [A, B] = APPS as [(typeof APPS)[number], (typeof APPS)[number]];
      // App A's sockets only on node 1; app B's on both (node 2's is the marker's recipient).
      const a1 = track(await subscribed(as(one, A), "news"));
      const b2 = track(await subscribed(as(two, B), "news"));
      track(await subscribed(as(one, B), "news"));

      // Node 1 hears app A's publishes made on node 2.
      for (let i = 0; i < 5; i++) await sdk(as(two, A)).trigger("news", "from-two", { i });
      await a1.next(byEvent("from-two"));
      await eventually(async () => (await busReceived(one, A.id)) >= 5, 10_000, "node 1 to count app A's messages");

      // Node 2 hears none of app A's publishes made on node 1: after a later message of app B
      // made on node 1 reached node 2's socket, node 2 counted B's and none of A's.
      const marker = async () => {
        const id = Math.random().toString(36).slice(2);
        await sdk(as(one, B)).trigger("news", "marker", { id });
        await b2.next((f) => f.event === "marker" && dataOf(f).id === id);
      };
      for (let i = 0; i < 5; i++) await sdk(as(one, A)).trigger("news", "from-one", { i });
      await marker();
      expect(await busReceived(two, A.id)).toBe(0);
      expect(await busReceived(two, B.id)).toBeGreaterThanOrEqual(1);
      expect(await busReceived(two, APPS[2]!.id)).toBe(0);

      // Node 2 gains a socket of app A: told it is connected and subscribed only once node 2
      // hears A's bus, so a publish on node 1 right after reaches it.
      const a2 = await subscribed(as(two, A), "news");
      await sdk(as(one, A)).trigger("news", "after-join", {});
      expect(dataOf(await a2.next(byEvent("after-join")))).toEqual({});
      expect(await busReceived(two, A.id)).toBeGreaterThanOrEqual(1);

      // The socket leaves: node 2 drops A's bus after the linger, and stops counting A's messages.
      a2.close();
      await eventually(() => two.output().includes(`unsubscribed from the bus of app ${A.id}`), 10_000, "node 2 to drop app A's bus");
      const before = await busReceived(two, A.id);
      for (let i = 0; i < 5; i++) await sdk(as(one, A)).trigger("news", "after-leave", { i });
      await marker();
      expect(await busReceived(two, A.id)).toBe(before);
      // Node 1 still serves A: it still gets A's publishes made on node 2.
      await sdk(as(two, A)).trigger("news", "still-here", {});
      await a1.next(byEvent("still-here"));
    }, 60_000);
  });
}
