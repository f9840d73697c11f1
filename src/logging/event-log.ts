// The debug log of what happened to each client (docs/operating.md, Logs): one line per connection, close,
// refusal, subscription, sign-in and REST call, driven by the server's event stream so the
// protocol code only emits events. Subscribed only at debug level: otherwise these kinds have no
// consumer and the producers skip building them.
import type { EventStream, ServerEvent, ServerEventKind } from "../core/events.ts";
import type { Logger } from "../core/runtime.ts";

const CLIENT_KINDS: ServerEventKind[] = [
  "connection_opened", "connection_closed", "connection_refused", "subscribed", "unsubscribed",
  "subscription_refused", "signed_in", "signin_refused", "rate_limited",
];

/** The ids of an event that apply, named as the JSON log fields are. */
function ids(e: ServerEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { appId: e.appId || undefined };
  if ("socketId" in e) out.socketId = e.socketId;
  if ("channel" in e) out.channel = e.channel;
  if ("userId" in e) out.userId = e.userId;
  return out;
}

function line(e: ServerEvent, logger: Logger): void {
  switch (e.kind) {
    case "connection_opened":
      return logger.debug("connection opened", ids(e));
    case "connection_closed":
      return logger.debug(`connection closed${e.code === undefined ? " by the client" : ` with ${e.code}`}`, { ...ids(e), code: e.code });
    case "connection_refused":
      return logger.debug(`connection refused with ${e.code}: ${e.reason}`, { ...ids(e), appKey: e.appKey, code: e.code, reason: e.reason });
    case "subscribed":
      return logger.debug(`subscribed to ${e.channel}`, ids(e));
    case "unsubscribed":
      return logger.debug(`unsubscribed from ${e.channel}`, ids(e));
    case "subscription_refused":
      return logger.debug(`subscription to ${e.channel} refused (${e.status} ${e.type}): ${e.reason}`, { ...ids(e), type: e.type, status: e.status, reason: e.reason });
    case "signed_in":
      return logger.debug(`signed in as ${e.userId}`, ids(e));
    case "signin_refused":
      return logger.debug(`sign-in refused: ${e.reason}`, { ...ids(e), reason: e.reason });
    case "rate_limited":
      return logger.debug(`rate limited (${e.scope})`, { ...ids(e), scope: e.scope, address: e.address });
    case "http_request":
      return logger.debug(`${e.method} ${e.path} ${e.status} ${e.ms} ms`, {
        appId: e.appId || undefined, method: e.method, path: e.path, status: e.status, ms: e.ms, address: e.address,
      });
  }
}

/** Logs client events (and REST calls unless `requests` is false) at debug; returns the unsubscribe. */
export function logEvents(events: EventStream, logger: Logger, options: { requests: boolean }): () => void {
  const kinds = options.requests ? [...CLIENT_KINDS, "http_request" as const] : CLIENT_KINDS;
  return events.subscribe("log", (e) => line(e, logger), kinds);
}
