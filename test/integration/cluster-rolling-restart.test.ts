// A rolling deploy of a 3-node cluster under a keep-alive publisher (issue 21), on the redis and
// the nats adapter, on the runtime under test (SWITCHBOARD_RUNTIME). See rolling-restart-suite.ts.
import { reachable, requireService } from "../adapters/cluster.ts";
import { natsForFile } from "../adapters/nats.ts";
import { describeRollingRestart } from "../adapters/rolling-restart-suite.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const nats = await natsForFile();

describeRollingRestart({ label: "redis", available: redisUp, env: () => ({ ADAPTER_DRIVER: "redis", REDIS_URL: "redis://127.0.0.1:6379" }) });
describeRollingRestart({ label: "nats", available: nats.available, env: () => ({ ADAPTER_DRIVER: "nats", NATS_SERVERS: nats.url() }) });
