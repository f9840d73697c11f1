// Every socket's liveness and sign-in deadline, checked on one interval for the whole node instead
// of a timer per socket (spec §4: server pings after activityTimeout of silence, 4201 when no pong
// follows within pongTimeout; 4009 for an app that requires sign-in).
import type { Connection } from "./connection.ts";
import { CloseCode, PING_FRAME } from "./messages.ts";
import type { ProtocolSettings } from "./settings.ts";

type Timing = Pick<ProtocolSettings, "activityTimeout" | "pongTimeout" | "userAuthenticationTimeout">;

/** How often to check: a quarter of the shortest deadline, between 50 ms and 1 s. */
export function livenessInterval(s: Timing): number {
  const shortest = Math.min(s.activityTimeout, s.pongTimeout, s.userAuthenticationTimeout) * 1000;
  return Math.max(50, Math.min(1000, Math.floor(shortest / 4)));
}

/**
 * Pings the silent sockets, and closes those past their pong or sign-in deadline. Returns when the
 * earliest deadline left falls (undefined without open sockets), for hosts that sweep on demand.
 */
export function checkLiveness(connections: Iterable<Connection>, s: Timing, now: number): number | undefined {
  const activity = s.activityTimeout * 1000;
  const pong = s.pongTimeout * 1000;
  let next: number | undefined;
  const due = (at: number) => void (next = next === undefined ? at : Math.min(next, at));
  for (const conn of connections) {
    if (conn.state !== "open") continue;
    // A ping the runtime answered for us (a Durable Object's auto-response) is a sign of life too.
    const answered = conn.socket.answeredAt?.() ?? 0;
    if (answered > conn.lastSeen) {
      conn.lastSeen = answered;
      if (answered >= conn.pingSentAt) conn.pingSentAt = 0;
    }
    if (conn.authDeadline && now >= conn.authDeadline) {
      conn.terminate(CloseCode.Unauthorized, "Connection not authorized within timeout");
      continue;
    } else if (conn.pingSentAt) {
      if (now - conn.pingSentAt >= pong) {
        conn.closeSocket(CloseCode.PongNotReceived, "Pong reply not received");
        continue;
      }
    } else if (now - conn.lastSeen >= activity) {
      conn.pingSentAt = now;
      conn.socket.ping?.();
      conn.send(PING_FRAME);
    }
    due(conn.pingSentAt ? conn.pingSentAt + pong : conn.lastSeen + activity);
    if (conn.authDeadline) due(conn.authDeadline);
  }
  return next;
}
