import type { ClientEventContext } from "../context.ts";
import { classifyChannel } from "../channels.ts";
import type { Connection } from "../connection.ts";
import type { InboundFrame } from "../frames.ts";
import { channelEvent, ErrorCode, errorFrame } from "../messages.ts";

const encoder = new TextEncoder();

/** True when the socket may send one more client event now (rolling one-second window). */
function withinRate(conn: Connection, perSecond: number, now: number): boolean {
  if (perSecond < 0) return true;
  if (perSecond === 0) return false;
  const times = (conn.clientEventTimes ??= []);
  if (times.length < perSecond) {
    times.push(now);
    return true;
  }
  // The ring holds the last `perSecond` accepted events; the oldest must be a second old.
  const oldest = times[conn.clientEventCursor]!;
  if (now - oldest < 1000) return false;
  times[conn.clientEventCursor] = now;
  conn.clientEventCursor = (conn.clientEventCursor + 1) % perSecond;
  return true;
}

/** Relays a client- event to the channel's other subscribers (spec §5). */
export function clientEvent(server: ClientEventContext, conn: Connection, frame: InboundFrame): void {
  const app = conn.app;
  const channel = frame.channel;
  if (typeof channel !== "string" || channel === "") {
    conn.send(errorFrame(null, "Client event requires a channel"));
    return;
  }
  const reject = (message: string, code: number | null = null) => conn.send(errorFrame(code, message, channel));
  if (!app.enableClientMessages) return reject("Client events are disabled for this app");
  if (!classifyChannel(channel).clientEvents) return reject("Client events are only allowed on private and presence channels");
  const sub = conn.channels.get(channel);
  if (!sub) return reject("Client event rejected: not subscribed to channel");
  if (frame.event.length > app.maxEventNameLength) return reject("Event name too long");
  const data = typeof frame.data === "string" ? frame.data : JSON.stringify(frame.data ?? null);
  if (app.maxEventPayloadInKb >= 0 && encoder.encode(data).length > app.maxEventPayloadInKb * 1024) {
    return reject("Event payload too large");
  }
  if (!withinRate(conn, app.maxClientEventsPerSecond, server.timers.now())) {
    server.events.emit({ kind: "rate_limited", appId: app.id, scope: "client_events", socketId: conn.id });
    return reject("Client event rejected due to rate limit", ErrorCode.ClientEventRateLimit);
  }
  const userId = sub.member?.userId;
  server.adapter.broadcast({
    type: "publish", appId: app.id, channel, frame: channelEvent(frame.event, channel, data, userId), exceptSocketId: conn.id,
  });
  server.events.emit({ kind: "client_event", appId: app.id, channel, event: frame.event, data, socketId: conn.id, userId });
}
