// Occupancy webhooks across a node that is paused (SIGSTOP) past the node timeout: the other node
// sweeps it (its channels are vacated), and when it resumes its sockets make the channels occupied
// again, even when the first thing it does is a leave (queued while it was stopped), which writes
// the node's remaining share back.
import { afterAll, describe, expect, it } from "vitest";
import { rawClient, type RawClient } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver.ts";
import { reachable, requireService, startCluster, subscribe, uniquePrefix, type ClusterOptions } from "../adapters/cluster.ts";
import { natsCluster, natsForFile } from "../adapters/nats.ts";

const APP = { appId: "app-id", key: "app-key", secret: "app-secret" };
const nats = await natsForFile();
const drivers: [string, boolean, (size: number, options: ClusterOptions) => Promise<TestServer[]>][] = [
  ["redis", await requireService(reachable(6379), "Redis on 127.0.0.1:6379"), startCluster],
  ["nats", nats.available, natsCluster(nats.url)],
];

describe.each(drivers)("%s adapter: webhooks across a node paused past the timeout", (_name, available, start) => {
  let receiver: Receiver | undefined;
  const nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  afterAll(async () => {
    for (const c of clients) c.close();
    nodes[1]?.process.kill("SIGCONT");
    await Promise.all(nodes.map((n) => n.stop()));
    await receiver?.close();
  });

  it.skipIf(!available)("ends with channel_occupied for a channel the paused node still holds", async () => {
    receiver = await startReceiver(APP);
    const env = { APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["channel_occupied", "channel_vacated"] }]) };
    const [A, B] = await start(2, { prefix: uniquePrefix("pause-hooks"), nodeTimeout: 1, env }) as [TestServer, TestServer];
    nodes.push(A, B);
    const ch = "private-paused";
    const onB: RawClient[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await rawClient(B);
      clients.push(c);
      onB.push(c);
      await subscribe(B, c, ch);
    }
    const last = () => receiver!.events((e) => e.channel === ch).at(-1)?.name;
    await receiver.waitFor(() => last() === "channel_occupied");

    B.process.kill("SIGSTOP");
    await receiver.waitFor(() => last() === "channel_vacated", 10_000); // A swept B
    // Read by B as soon as it resumes, before its ticker notices the pause.
    onB[0]!.send({ event: "pusher:unsubscribe", data: { channel: ch } });
    await new Promise((r) => setTimeout(r, 200));
    B.process.kill("SIGCONT");
    await receiver.waitFor(() => last() === "channel_occupied", 10_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(receiver.events((e) => e.channel === ch).map((e) => e.name)).toEqual(["channel_occupied", "channel_vacated", "channel_occupied"]);
  }, 60_000);
});
