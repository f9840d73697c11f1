// A NATS server killed right after acknowledging a write can come back without it, so a key may
// name a live node with a share it no longer has (a subscription count one too high, for good: no
// resync revisits a key the node left). The sweep re-checks this node's own share of every key
// that names it. Here the stale share is written into the bucket by hand, and a node's death sets
// off the sweep.
import { afterAll, describe, expect, it } from "vitest";
import { key } from "../../src/adapters/nats/state.ts";
import { natsNames } from "../../src/adapters/nats/names.ts";
import type { TestServer } from "../helpers/server.ts";
import { eventually, getJson, nodeIdOf, uniquePrefix } from "../adapters/cluster.ts";
import { natsCluster, natsForFile } from "../adapters/nats.ts";

const nats = await natsForFile();

describe.skipIf(!nats.available)("nats adapter: a stale share of a live node", () => {
  const nodes: TestServer[] = [];
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  it("is corrected by the next sweep", async () => {
    const prefix = uniquePrefix("stale");
    const [A, B, C] = await natsCluster(nats.url)(3, { prefix, nodeTimeout: 1 }) as [TestServer, TestServer, TestServer];
    nodes.push(A, B, C);
    (globalThis as { WebSocket?: unknown }).WebSocket ??= (await import("ws")).WebSocket;
    const { connect } = await import("nats.ws");
    const nc = await connect({ servers: nats.url() });
    try {
      const kv = await nc.jetstream().views.kv(natsNames(prefix).bucket, { bindOnly: true });
      await kv.put(key(A.appId, "c", "private-ghost"), new TextEncoder().encode(JSON.stringify({ n: { [nodeIdOf(A)]: 1 } })));
    } finally {
      await nc.close();
    }
    expect((await getJson(B, "/channels/private-ghost", { info: "subscription_count" })).subscription_count).toBe(1);
    C.process.kill("SIGKILL"); // a death: A and B sweep, and A finds its stale share
    await eventually(async () => ((await getJson(B, "/channels/private-ghost", { info: "subscription_count" })).subscription_count ?? 0) === 0,
      10_000, "the stale share to be corrected");
  }, 30_000);
});
