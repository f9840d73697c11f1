// The HTTP API's publish (spec §3.11) as the core does it: cache first, then the bus.
import type { App } from "./app.ts";
import { classifyChannel } from "./channels.ts";
import type { CoreContext } from "./context.ts";
import { channelEvent } from "./messages.ts";

/**
 * Publishes an application event to a channel cluster-wide: resolved once delivered here and
 * accepted by the bus for the other nodes, else a ClusterUnavailableError. `dedupe` (from an
 * idempotency key) makes every node deliver it at most once.
 */
export async function publishEvent(
  node: Pick<CoreContext, "adapter" | "settings">,
  app: App, channel: string, event: string, data: string, exceptSocketId?: string, dedupe?: string,
): Promise<void> {
  const frame = channelEvent(event, channel, data);
  // Cached first: a cache the backend refused answers 503 before anyone got the event, so the
  // retry delivers it once, and a 2xx means delivered and cached. (A socket subscribing between
  // the two steps may get it twice: from the cache, then live.)
  if (classifyChannel(channel).cache) await node.adapter.cacheSet(app.id, channel, event, data, node.settings.cacheTtlSeconds);
  await node.adapter.deliver({ type: "publish", appId: app.id, channel, frame, exceptSocketId, dedupe });
}
