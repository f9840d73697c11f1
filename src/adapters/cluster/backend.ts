// What a Redis-family driver supplies to the shared ClusterAdapter: run a script from scripts.ts,
// publish on the bus, and report up/down. One file per driver implements it (redis.ts,
// redis-cluster.ts, upstash.ts).
import type { ScriptName } from "./scripts.ts";
import type { TransportEvents } from "./transport.ts";

export interface ClusterBackend {
  open(busChannel: string, events: TransportEvents): void;
  /** Runs a script on `keys` (every key it touches; they share one hash tag, so one cluster slot). */
  run(script: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown>;
  publish(busChannel: string, payload: string): Promise<void>;
  close(): Promise<void>;
  /** Each tick while the lifecycle is down: check whether a backend that stopped answering is back. */
  probe?(): void;
}
