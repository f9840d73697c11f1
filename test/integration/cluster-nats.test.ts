// The cluster contract (test/adapters/cluster-suite.ts) on the nats driver, against a nats-server
// with a WebSocket listener and JetStream that this file starts itself.
import { afterAll, beforeAll } from "vitest";
import { requireService, startCluster } from "../adapters/cluster.ts";
import { describeCluster } from "../adapters/cluster-suite.ts";
import { natsServerInstalled, ownNats, type OwnNats } from "../adapters/nats.ts";

const natsOk = await requireService(natsServerInstalled(), "the nats-server binary");
let nats: OwnNats | undefined;

beforeAll(async () => {
  if (!natsOk) return;
  nats = await ownNats();
  await nats.start();
});
afterAll(() => nats?.destroy());

describeCluster({
  label: "nats",
  available: natsOk,
  start: (size, options) => startCluster(size, { ...options, env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: nats!.url, ...options.env } }),
});
