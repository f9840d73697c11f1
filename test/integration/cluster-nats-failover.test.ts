// Node and bus failures (test/adapters/failover-suite.ts) on the nats driver: one nats-server of
// this file's own for SIGKILL/SIGTERM, another one that the restart test kills and starts again.
import { describeFailover } from "../adapters/failover-suite.ts";
import { natsCluster, natsForFile, natsTraces, ownNats } from "../adapters/nats.ts";

const nats = await natsForFile();

describeFailover({
  label: "nats",
  busName: "NATS",
  available: nats.available,
  start: natsCluster(nats.url),
  traces: (prefix, nodeId) => natsTraces(nats.url(), prefix, nodeId),
  ownBus: nats.available
    ? async () => {
        const own = await ownNats();
        return { env: { NATS_SERVERS: own.url }, start: own.start, kill: own.kill, destroy: own.destroy };
      }
    : undefined,
});
