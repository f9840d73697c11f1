import type { Connection } from "./connection.ts";
import { clientEvent } from "./handlers/client-event.ts";
import { signin } from "./handlers/signin.ts";
import { subscribe, unsubscribe } from "./handlers/subscribe.ts";
import { errorFrame, PONG_FRAME, subscriptionError } from "./messages.ts";
import type { Switchboard } from "./server.ts";

export interface InboundFrame {
  event: string;
  channel?: unknown;
  data?: unknown;
}

/** `data` of pusher:* events may be an object or a JSON string; missing means {} (spec §1.4). */
export function frameData(frame: InboundFrame): Record<string, unknown> | null {
  let data = frame.data;
  if (data === undefined || data === null) return {};
  if (typeof data === "string") {
    if (data === "") return {};
    try {
      data = JSON.parse(data);
    } catch {
      return null;
    }
  }
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
}

/** Routes one inbound text frame (spec §1.9). Returns a promise only when async work is needed. */
export function dispatchFrame(server: Switchboard, conn: Connection, text: string): void | Promise<void> {
  if (!conn.open) return;
  let frame: InboundFrame;
  try {
    frame = JSON.parse(text);
  } catch {
    conn.send(errorFrame(null, "Invalid message format"));
    return;
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame) || typeof frame.event !== "string") {
    conn.send(errorFrame(null, "Invalid message format"));
    return;
  }
  if (server.events.wants("message_received")) server.events.emit({ kind: "message_received", appId: conn.app.id, socketId: conn.id, bytes: text.length });
  const event = frame.event;
  switch (event) {
    case "pusher:ping":
      conn.send(PONG_FRAME);
      return;
    case "pusher:pong":
      return;
    case "pusher:subscribe":
      return subscribe(server, conn, frame).catch((error) => {
        // A backend failure (e.g. the cluster bus is down) must not leave the client waiting.
        server.logger.error("subscribe failed", error);
        const channel = frameData(frame)?.channel;
        if (typeof channel === "string") conn.send(subscriptionError(channel, "ServerError", "Internal server error", 500));
      });
    case "pusher:unsubscribe":
      return unsubscribe(server, conn, frame);
    case "pusher:signin":
      return signin(server, conn, frame);
  }
  if (event.startsWith("client-")) return clientEvent(server, conn, frame);
  conn.send(errorFrame(null, `Unsupported event: ${event.slice(0, 200)}`));
}
