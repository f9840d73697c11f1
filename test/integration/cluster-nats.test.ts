// The cluster contract (test/adapters/cluster-suite.ts) on the nats driver, against a nats-server
// with a WebSocket listener and JetStream that this file starts itself.
import { describeAppBuses } from "../adapters/app-bus-suite.ts";
import { describeCluster } from "../adapters/cluster-suite.ts";
import { describePresenceStorm } from "../adapters/presence-storm-suite.ts";
import { describeSubscribeBurst } from "../adapters/subscribe-burst-suite.ts";
import { natsCluster, natsForFile } from "../adapters/nats.ts";

const nats = await natsForFile();

describeCluster({ label: "nats", available: nats.available, start: natsCluster(nats.url) });
describePresenceStorm({ label: "nats", available: nats.available, sizes: [1, 3], start: natsCluster(nats.url) });
describeSubscribeBurst({ label: "nats", available: nats.available, start: natsCluster(nats.url) });
describeAppBuses({ label: "nats", available: nats.available, start: natsCluster(nats.url) });
