// Node and bus failures (test/adapters/failover-suite.ts) on the nats driver: one nats-server of
// this file's own for SIGKILL/SIGTERM, another one that the restart test kills and starts again.
import { afterAll, beforeAll } from "vitest";
import { requireService, startCluster } from "../adapters/cluster.ts";
import { describeFailover } from "../adapters/failover-suite.ts";
import { natsServerInstalled, natsTraces, ownNats, type OwnNats } from "../adapters/nats.ts";

const natsOk = await requireService(natsServerInstalled(), "the nats-server binary");
let nats: OwnNats | undefined;

beforeAll(async () => {
  if (!natsOk) return;
  nats = await ownNats();
  await nats.start();
});
afterAll(() => nats?.destroy());

describeFailover({
  label: "nats",
  busName: "NATS",
  available: natsOk,
  start: (size, options) => startCluster(size, { ...options, env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: nats!.url, ...options.env } }),
  traces: (prefix, nodeId) => natsTraces(nats!.url, prefix, nodeId),
  ownBus: natsOk
    ? async () => {
        const own = await ownNats();
        return { env: { NATS_SERVERS: own.url }, start: own.start, kill: own.kill, destroy: own.destroy };
      }
    : undefined,
});
