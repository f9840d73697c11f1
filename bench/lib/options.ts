// Command-line options. Every scenario is bounded by a count and by a time limit.

export const ALL_SCENARIOS = ["connect", "fanout", "fanout-max", "client-events", "presence", "webhooks", "webhooks-batched", "webhooks-redis", "storm", "cluster-redis", "cluster-nats", "cluster-redis-other-app"] as const;

export interface Options {
  runtime: string;
  /** postgres or mysql: the bench app is read from a database store (bench/lib/store.ts). */
  store?: string;
  scenarios: string[];
  out?: string;
  build: boolean;
  nodeBin: string;
  /** Attach to a server someone else started ("127.0.0.1:6001") instead of spawning one. */
  external?: string;
  pid?: number;
  appId: string;
  appKey: string;
  appSecret: string;
  /** Another checkout to run the server from (default: this repository). */
  serverRoot?: string;
  /** Write a CPU profile of the server (node and bun runtimes) into bench/profiles/. */
  profile: boolean;
  /**
   * A freshly spawned server for every scenario, and nothing sent to it before the measured phase:
   * what a deploy looks like, when every client reconnects at once to processes that served nothing.
   */
  fresh: boolean;
  /** connect: storms against the same process in a row (the first cold with --fresh, the last warm). */
  connectRounds: number;
  // connect
  connections: number;
  inFlight: number;
  // fanout / fanout-max
  subscribers: number;
  events: number;
  rate: number;
  payload: number;
  publishers: number;
  duration: number;
  // client-events
  pairs: number;
  pairRate: number;
  pairDuration: number;
  // presence
  members: number;
  joinConcurrency: number;
  // webhooks, webhooks-batched, webhooks-redis
  webhookEvents: number;
  webhookRate: number;
  // storm
  stormConnections: number;
  stormRoom: number;
  stormInFlight: number;
  // cluster-redis, cluster-nats
  clusterEvents: number;
  clusterDuration: number;
  /** Upper bound for any single scenario, seconds. */
  scenarioTimeout: number;
  /** Extra server settings (--server-env KEY=VALUE, repeatable), e.g. METRICS_ENABLED=false for an A/B. */
  serverEnv: Record<string, string>;
}

export const HELP = `Usage: npm run bench -- [options]        (runs: bun bench/run.ts [options])

  --runtime node|deno|bun     server runtime to spawn (default node; node is built first)
  --store postgres|mysql      read the bench app from a database store (fresh table, migrate + insert)
  --scenarios a,b,...         ${ALL_SCENARIOS.join(",")} (default: all)
  --out FILE                  JSON output (default bench/results/<runtime>-<date>.json)
  --no-build                  node: use the existing dist/node.js instead of npm run build
  --node PATH                 node binary for --runtime node (default: node on PATH)
  --profile                   node, bun: run the server with --cpu-prof into bench/profiles/
  --fresh                     a new server process for every scenario, sent nothing before the
                              measured phase (a deploy's reconnect storm meets cold processes);
                              with --external: only the "sent nothing before" part (start it fresh)
  --server-root DIR           run the server from another checkout (A/B an optimization)
  --external 127.0.0.1:PORT   benchmark an already running server (e.g. Soketi) instead
  --pid N                     its pid, for RSS and CPU (optional with --external)
  --app-id/--app-key/--app-secret   credentials of the external server's app

  connect:        --connections 2000   --in-flight 100   --connect-rounds 1 (storms against the same
                  process in a row: with --fresh the first is cold, the last warm)
  fanout:         --subscribers 1000   --events 200   --rate 20   --payload 200
  fanout-max:     --subscribers 1000   --publishers 8 --duration 10
  client-events:  --pairs 50           --pair-rate 500 (round trips/s, all pairs)  --pair-duration 10
  presence:       --members 500        --join-concurrency 10
  webhooks*:      --webhook-events 5000 --webhook-rate 2000 (client events/s, each one webhook)
  storm:          --storm-connections 5000 (each on 5 channels)  --storm-room 50 (members per presence
                  channel)  --storm-in-flight 500 (reconnects in flight at once)
  cluster-*:      3 nodes; --subscribers spread over them; --cluster-events 100 at --rate, then
                  --publishers loops (through every node) for --cluster-duration 5 s
  cluster-redis-other-app: 2 nodes, the app's sockets on node 1 only; 1,000 publishes of --payload
                  through node 1 (--publishers at a time): node 2's CPU for them
  --scenario-timeout 120      hard limit per scenario in seconds
  --server-env KEY=VALUE      extra server setting, repeatable (e.g. METRICS_ENABLED=false for an A/B run)
`;

export function parseOptions(argv: string[]): Options | "help" {
  const o: Options = {
    runtime: "node", scenarios: [...ALL_SCENARIOS], build: true, nodeBin: "node",
    appId: "bench-app", appKey: "bench-key", appSecret: "bench-secret", profile: false, fresh: false, connectRounds: 1,
    connections: 2000, inFlight: 100,
    subscribers: 1000, events: 200, rate: 20, payload: 200, publishers: 8, duration: 10,
    pairs: 50, pairRate: 500, pairDuration: 10,
    members: 500, joinConcurrency: 10, webhookEvents: 5000, webhookRate: 2000, scenarioTimeout: 120,
    serverEnv: {},
    stormConnections: 5000, stormRoom: 50, stormInFlight: 500, clusterEvents: 100, clusterDuration: 5,
  };
  const numeric: Record<string, keyof Options> = {
    "--connections": "connections", "--connect-rounds": "connectRounds", "--in-flight": "inFlight", "--subscribers": "subscribers",
    "--events": "events", "--rate": "rate", "--payload": "payload", "--publishers": "publishers",
    "--duration": "duration", "--pairs": "pairs", "--pair-rate": "pairRate", "--pair-duration": "pairDuration",
    "--members": "members", "--join-concurrency": "joinConcurrency",
    "--webhook-events": "webhookEvents", "--webhook-rate": "webhookRate", "--scenario-timeout": "scenarioTimeout",
    "--storm-connections": "stormConnections", "--storm-room": "stormRoom", "--storm-in-flight": "stormInFlight",
    "--cluster-events": "clusterEvents", "--cluster-duration": "clusterDuration",
    "--pid": "pid",
  };
  const strings: Record<string, keyof Options> = {
    "--runtime": "runtime", "--store": "store", "--out": "out", "--node": "nodeBin", "--external": "external", "--server-root": "serverRoot",
    "--app-id": "appId", "--app-key": "appKey", "--app-secret": "appSecret",
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i]!;
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const take = () => {
      const v = value ?? argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === "--help" || arg === "-h") return "help";
    else if (arg === "--no-build") o.build = false;
    else if (arg === "--profile") o.profile = true;
    else if (arg === "--fresh") o.fresh = true;
    else if (arg === "--server-env") {
      // --server-env=K=V was split at its first "=" above, so `value` is K=V itself.
      const pair = take();
      const at = pair.indexOf("=");
      if (at <= 0) throw new Error("--server-env needs KEY=VALUE");
      o.serverEnv[pair.slice(0, at)] = pair.slice(at + 1);
    }
    else if (arg === "--scenarios") {
      o.scenarios = take().split(",").map((s) => s.trim()).filter(Boolean);
      const unknown = o.scenarios.filter((s) => !(ALL_SCENARIOS as readonly string[]).includes(s));
      if (unknown.length) throw new Error(`unknown scenario(s): ${unknown.join(", ")}`);
    } else if (numeric[arg]) {
      const n = Number(take());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${arg} must be a positive number`);
      (o as unknown as Record<string, number>)[numeric[arg]!] = n;
    } else if (strings[arg]) {
      (o as unknown as Record<string, string>)[strings[arg]!] = take();
    } else throw new Error(`unknown option ${arg} (see --help)`);
  }
  if (!["node", "deno", "bun"].includes(o.runtime)) throw new Error("--runtime must be node, deno or bun");
  if (!Number.isInteger(o.connectRounds)) throw new Error("--connect-rounds must be a whole number");
  return o;
}
