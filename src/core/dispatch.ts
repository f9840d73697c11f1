import type { Connection } from "./connection.ts";
import { clientEvent } from "./handlers/client-event.ts";
import { signin } from "./handlers/signin.ts";
import { subscribe, unsubscribe } from "./handlers/subscribe.ts";
import { errorFrame, PONG_FRAME, subscriptionError } from "./messages.ts";
import type { DispatchContext } from "./context.ts";
import { frameData, parseFrame } from "./frames.ts";

/** Routes one inbound text frame (spec §1.9). Returns a promise only when async work is needed. */
export function dispatchFrame(server: DispatchContext, conn: Connection, text: string): void | Promise<void> {
  if (!conn.open) return;
  const frame = parseFrame(text);
  if (!frame) {
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
    // A backend failure (e.g. the cluster bus is down) must not leave the client waiting: each
    // request that has an answer gets one, and every failure is logged once, here.
    case "pusher:subscribe":
      return subscribe(server, conn, frame).catch((error) => {
        server.logger.error(`subscribe failed (socket ${conn.id})`, error);
        const channel = frameData(frame)?.channel;
        if (typeof channel === "string") conn.send(subscriptionError(channel, "ServerError", "Internal server error", 500));
      });
    case "pusher:unsubscribe":
      // Nothing is answered to an unsubscribe; the socket has left locally and a resync repairs the store.
      return unsubscribe(server, conn, frame).catch((error) => server.logger.error(`unsubscribe failed (socket ${conn.id})`, error));
    case "pusher:signin":
      return signin(server, conn, frame).catch((error) => {
        server.logger.error(`sign-in failed (socket ${conn.id})`, error);
        conn.send(errorFrame(null, "Sign-in failed: internal server error"));
      });
  }
  if (event.startsWith("client-")) return clientEvent(server, conn, frame);
  conn.send(errorFrame(null, `Unsupported event: ${event.slice(0, 200)}`));
}
