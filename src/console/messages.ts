// The console's cluster traffic (hub.ts), carried as the core's FeatureMessage of topic "console",
// sent only while a console watches `appId`: "watch" is the watching node's heartbeat, "count"
// each node's answer (its connections of the app), "events" a node's server events of the app,
// batched and bounded (`dropped`: how many did not fit), "revoke" a console session signed out,
// refused on every node until it would have expired. `node` tells a node its own messages apart
// (the local adapter echoes them).
import type { FeatureMessage } from "../core/adapter.ts";
import type { ServerEvent } from "../core/events.ts";

export const CONSOLE_TOPIC = "console";

const OPS = ["watch", "count", "events", "revoke"] as const;

export interface ConsoleMessage {
  appId: string;
  node: string;
  op: (typeof OPS)[number];
  connections?: number;
  events?: ServerEvent[];
  dropped?: number;
  session?: string;
  until?: number;
}

/**
 * A revocation must be refused everywhere, and a "watch" must reach the nodes that serve none of
 * the app's sockets too (their REST publishes and webhooks of the app are its events): both go
 * to every node. The answers ("count", "events") go on the app's bus, which the watcher holds.
 */
export function consoleFeature({ appId, ...body }: ConsoleMessage): FeatureMessage {
  return { type: "feature", topic: CONSOLE_TOPIC, appId, nodeWide: body.op === "watch" || body.op === "revoke", body };
}

/** The console message a feature message carries; undefined for one of another version's shape. */
export function consoleMessage(m: FeatureMessage): ConsoleMessage | undefined {
  const body = m.body as Partial<ConsoleMessage> | null;
  if (typeof body !== "object" || body === null || typeof body.node !== "string" || !OPS.includes(body.op as ConsoleMessage["op"])) return undefined;
  return { ...(body as Omit<ConsoleMessage, "appId">), appId: m.appId };
}
