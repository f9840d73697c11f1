// The cluster contract (test/adapters/cluster-suite.ts) on the redis driver, against the Redis on 6379.
import { reachable, requireService, startCluster } from "../adapters/cluster.ts";
import { describeAppBuses } from "../adapters/app-bus-suite.ts";
import { describeCluster } from "../adapters/cluster-suite.ts";
import { describePresenceStorm } from "../adapters/presence-storm-suite.ts";
import { describeSubscribeBurst } from "../adapters/subscribe-burst-suite.ts";

const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");

describeCluster({ label: "redis", available: redisUp, start: startCluster });
describePresenceStorm({ label: "redis", available: redisUp, sizes: [1, 3], start: startCluster });
describeSubscribeBurst({ label: "redis", available: redisUp, start: startCluster });
describeAppBuses({ label: "redis", available: redisUp, start: startCluster });
