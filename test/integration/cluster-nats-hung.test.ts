// The backend hangs (test/adapters/hung-backend-suite.ts) on the nats driver: a private
// nats-server (WebSocket listener and JetStream) stopped with SIGSTOP.
import { requireService, startCluster } from "../adapters/cluster.ts";
import { describeHungBackend } from "../adapters/hung-backend-suite.ts";
import { natsServerInstalled, ownNats } from "../adapters/nats.ts";

const installed = await requireService(natsServerInstalled(), "the nats-server binary");

describeHungBackend({
  label: "nats",
  available: installed,
  start: startCluster,
  async bus() {
    const nats = await ownNats();
    await nats.start();
    return { env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: nats.url }, signal: nats.signal, destroy: nats.destroy };
  },
});
