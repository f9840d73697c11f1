import type { Adapter } from "../core/adapter.ts";
import type { EventStream } from "../core/events.ts";

declare module "../core/events.ts" {
  interface FeatureEvents {
    /**
     * One cluster-wide query this node made of the adapter's backend (Redis, NATS): the
     * "horizontal adapter" requests of the metrics. `ok` is false when it failed or timed out.
     */
    adapter_request: { op: string; ms: number; ok: boolean };
  }
}

/**
 * The adapter calls that ask the cluster's shared state for an answer (REST channel info, member
 * lists, watchlists, cache channels). They are this project's "horizontal
 * adapter requests": Soketi asks every other node over the bus and waits for their responses; the
 * redis, redis-cluster and nats adapters keep cluster state in the backend, so a request is one
 * round trip to it instead, and no node ever receives a request from another.
 */
const QUERIES = ["channelStats", "channels", "channelPage", "members", "onlineUsers", "cacheGet"] as const;

type Query = (typeof QUERIES)[number];

/**
 * Makes each cluster query emit an `adapter_request` event with its duration and outcome. The
 * local adapter answers from memory and is left alone (its requests would measure nothing).
 * Joins, leaves and broadcasts are state changes, not requests, and are not wrapped.
 */
export function measureAdapterRequests(adapter: Adapter, events: EventStream, now: () => number): void {
  for (const op of QUERIES) wrap(adapter, op, events, now);
}

function wrap<K extends Query>(adapter: Adapter, op: K, events: EventStream, now: () => number): void {
  const original = adapter[op] as (appId: string, ...rest: unknown[]) => Promise<unknown>;
  const measured = async (appId: string, ...rest: unknown[]) => {
    if (!events.wants("adapter_request")) return original.call(adapter, appId, ...rest);
    const started = now();
    let ok = false;
    try {
      const result = await original.call(adapter, appId, ...rest);
      ok = true;
      return result;
    } finally {
      events.emit({ kind: "adapter_request", appId, op, ms: now() - started, ok });
    }
  };
  (adapter as unknown as Record<K, unknown>)[op] = measured;
}
