import type { ServerEvent, ServerEventKind } from "../core/events.ts";

// What a console browser is sent: server events of its app as short rows, and a bounded queue per
// browser so one that reads slowly costs a fixed amount of memory (the rest is dropped and counted).

/** The server events the console shows; high-volume internals (broadcast, message_received) are not. */
export const CONSOLE_KINDS: readonly ServerEventKind[] = [
  "connection_opened", "connection_closed", "connection_refused", "subscribed", "unsubscribed", "subscription_refused",
  "signin_refused", "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event",
  "api_publish", "cache_miss", "rate_limited", "webhook_delivery",
];

/** Client event data is shown up to this many characters (and forwarded to other nodes cut to it). */
export const MAX_DATA_CHARS = 2000;

/** One row of the console's event list. */
export interface ConsoleEvent {
  time: number;
  kind: ServerEventKind;
  /** Which node saw it (short random id per process): shows that the cluster's events all arrive. */
  node: string;
  channel?: string;
  /** The event name, for publishes and client events. */
  event?: string;
  socketId?: string;
  userId?: string;
  details: string;
}

const cut = (text: string) => (text.length > MAX_DATA_CHARS ? `${text.slice(0, MAX_DATA_CHARS)}… (${text.length} characters)` : text);
/** A webhook URL's user:password@ never reaches a browser (targetLabel already drops the query). */
const safeTarget = (target: string) => target.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1");

/** The event as it crosses the bus: client data cut to what the console shows. */
export function forForwarding(e: ServerEvent): ServerEvent {
  return e.kind === "client_event" && e.data.length > MAX_DATA_CHARS ? { ...e, data: cut(e.data) } : e;
}

const LOCAL_ONLY = "this node's view while the cluster backend is away (no webhook; the resync announces what changed)";

/** The row for a server event; undefined for kinds the console does not show. */
export function summarize(e: ServerEvent, node: string): ConsoleEvent | undefined {
  const row = (fields: Omit<ConsoleEvent, "time" | "kind" | "node">): ConsoleEvent => ({ time: e.time, kind: e.kind, node, ...fields });
  switch (e.kind) {
    case "connection_opened":
      return row({ socketId: e.socketId, details: "" });
    case "connection_closed":
      return row({
        socketId: e.socketId, userId: e.userId,
        details: e.code === undefined ? "closed by the client (or the network)" : `closed by the server with ${e.code}`,
      });
    case "connection_refused":
      return row({ details: `refused with ${e.code}: ${e.reason}` });
    case "subscribed":
    case "unsubscribed":
      return row({ channel: e.channel, socketId: e.socketId, userId: e.userId, details: "" });
    case "subscription_refused":
      return row({ channel: e.channel, socketId: e.socketId, details: `${e.type} (${e.status}): ${e.reason}` });
    case "signin_refused":
      return row({ socketId: e.socketId, details: e.reason });
    case "channel_occupied":
    case "channel_vacated":
      return row({ channel: e.channel, details: e.localOnly ? LOCAL_ONLY : "" });
    case "cache_miss":
      return row({ channel: e.channel, details: "" });
    case "member_added":
    case "member_removed":
      return row({ channel: e.channel, userId: e.userId, details: e.localOnly ? LOCAL_ONLY : "" });
    case "client_event":
      return row({ channel: e.channel, event: e.event, socketId: e.socketId, userId: e.userId, details: cut(e.data) });
    case "api_publish":
      return row({
        channel: e.channels.join(", "), event: e.event, socketId: e.socketId,
        details: `${e.bytes} bytes to ${e.channels.length} channel${e.channels.length === 1 ? "" : "s"}${e.socketId ? `, except socket ${e.socketId}` : ""}`,
      });
    case "rate_limited":
      return row({ socketId: e.socketId, details: `over the ${e.scope} limit` });
    case "webhook_delivery": {
      const result = e.status !== undefined ? `HTTP ${e.status}` : "";
      const why = e.error ? `${result ? ", " : ""}${e.error}` : "";
      return row({
        details: `${e.outcome} to ${safeTarget(e.target)}: ${result}${why}; ${e.events} event${e.events === 1 ? "" : "s"}, attempt ${e.attempt}, ${e.ms} ms`,
      });
    }
    default:
      return undefined;
  }
}

/** What a viewer's writer takes from its queue in one go. */
export interface Batch {
  events: ConsoleEvent[];
  /** Events dropped because this browser read too slowly, since the last batch. */
  dropped: number;
  /** Events other nodes dropped over their forwarding limit, since the last batch. */
  clusterDropped: number;
  state?: unknown;
  /** Nothing else to send, but the stream should show it is alive. */
  ping: boolean;
}

/**
 * One console browser's queue. Events past `limit` are dropped and counted (the browser is told
 * how many); the channel/connection state is latest-wins, so it never queues up.
 */
export class Viewer {
  private events: ConsoleEvent[] = [];
  private dropped = 0;
  private clusterDropped = 0;
  private state: unknown = undefined;
  private pinged = false;
  private wake: (() => void) | undefined;
  closed = false;

  constructor(readonly appId: string, private readonly limit: number, private readonly onDrop: (n: number) => void) {}

  push(event: ConsoleEvent): void {
    if (this.closed) return;
    if (this.events.length >= this.limit) {
      this.dropped++;
      this.onDrop(1);
    } else {
      this.events.push(event);
    }
    this.signal();
  }

  noteClusterDrop(n: number): void {
    this.clusterDropped += n;
    this.signal();
  }

  setState(state: unknown): void {
    this.state = state;
    this.signal();
  }

  ping(): void {
    this.pinged = true;
    this.signal();
  }

  /** Resolves with what is waiting, as soon as something is; undefined once closed. */
  async take(): Promise<Batch | undefined> {
    while (!this.closed && this.events.length === 0 && this.dropped === 0 && this.clusterDropped === 0 && this.state === undefined && !this.pinged) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.closed) return undefined;
    const batch: Batch = { events: this.events, dropped: this.dropped, clusterDropped: this.clusterDropped, state: this.state, ping: this.pinged };
    this.events = [];
    this.dropped = 0;
    this.clusterDropped = 0;
    this.state = undefined;
    this.pinged = false;
    return batch;
  }

  close(): void {
    this.closed = true;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
