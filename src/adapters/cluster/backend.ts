// What a Redis-family driver supplies to the shared ClusterAdapter: run a script from scripts.ts,
// publish on the bus channels, subscribe to the apps' channels, and report up/down. One file per
// driver implements it (redis.ts, redis-cluster.ts, upstash.ts).
import type { ScriptName } from "./scripts.ts";
import type { TransportEvents } from "./transport.ts";

export interface ClusterBackend {
  /**
   * Connects, subscribed to the node channel every node hears; `up` once commands work and that
   * subscription is confirmed. Messages of every subscribed channel go to `events.message`.
   */
  open(nodeChannel: string, events: TransportEvents): void;
  /** Runs a script on `keys` (every key it touches; they share one hash tag, so one cluster slot). */
  run(script: ScriptName, keys: string[], args: (string | number)[]): Promise<unknown>;
  publish(channel: string, payload: string): Promise<void>;
  /** Subscribes to the channels (subscribing twice is harmless); resolves once the backend confirmed each. */
  subscribe(channels: string[]): Promise<void>;
  unsubscribe(channels: string[]): Promise<void>;
  close(): Promise<void>;
  /** Each tick while the lifecycle is down: check whether a backend that stopped answering is back. */
  probe?(): void;
}
