import type { App } from "./app.ts";
import type { Member } from "./adapter.ts";
import type { MemberView } from "./presence.ts";
import type { Logger, RawSocket } from "./runtime.ts";
import { TaskQueue } from "./task-queue.ts";
import { CloseCode, errorFrame, truncateReason } from "./messages.ts";

export interface Subscription {
  /** Set on presence channels: the member this socket joined as. */
  member?: Member;
  /** Set on presence channels once acknowledged: what the socket was told about the members. */
  view?: MemberView;
}

export interface SignedInUser {
  id: string;
  /** The exact user_data string that was signed. */
  userData: string;
  info: unknown;
  watchlist: string[];
}

/** Shared by every socket that has not subscribed to anything (most idle ones): no Map each. */
const NO_CHANNELS: ReadonlyMap<string, Subscription> = new Map();

/**
 * Per-socket protocol state. Inbound frames are handled in order (task-queue.ts): while an async
 * step (HMAC, an adapter round trip) is in flight, later frames wait in a backlog bounded in bytes.
 */
export class Connection extends TaskQueue {
  id = "";
  app!: App;
  state: "opening" | "open" | "closed" = "opening";
  /** Subscribed channels; change it through addChannel/removeChannel. */
  channels: ReadonlyMap<string, Subscription> = NO_CHANNELS;
  user?: SignedInUser;
  lastSeen: number;
  /** When the server pinged and is waiting for any inbound frame; 0 when not waiting. */
  pingSentAt = 0;
  /** Authorized-connection deadline (ms epoch); 0 when not required or already satisfied. */
  authDeadline = 0;
  /** Ring of recent client-event times, allocated only for sockets that send client events. */
  clientEventTimes?: number[];
  clientEventCursor = 0;
  /** Set when the socket was counted in the app's connection quota. */
  registered = false;
  /** The close code the server sent, if it closed the socket. */
  closeCode?: number;

  constructor(
    readonly socket: RawSocket,
    now: number,
    private readonly maxBufferedBytes: number,
    maxBacklogBytes: number,
    private readonly logger: Pick<Logger, "error" | "debug">,
  ) {
    super(maxBacklogBytes);
    this.lastSeen = now;
  }

  addChannel(channel: string, sub: Subscription): void {
    if (this.channels === NO_CHANNELS) this.channels = new Map();
    (this.channels as Map<string, Subscription>).set(channel, sub);
  }

  removeChannel(channel: string): void {
    if (this.channels !== NO_CHANNELS) (this.channels as Map<string, Subscription>).delete(channel);
  }

  get open(): boolean {
    return this.state === "open";
  }

  send(frame: string): void {
    if (this.state === "closed" || this.checkBuffer()) return;
    this.socket.send(frame);
  }

  /** Closes the socket with 4100 when its outgoing buffer is past the bound; true if it did. */
  checkBuffer(): boolean {
    if (this.state === "closed" || this.maxBufferedBytes <= 0) return false;
    if (this.socket.bufferedAmount() <= this.maxBufferedBytes) return false;
    // A client that stops reading must not grow our memory: let it reconnect with back-off.
    this.terminate(CloseCode.OverCapacity, "Client is not reading; outgoing buffer full");
    return true;
  }

  /**
   * Frames held for this socket (registry.ts, while a subscribe is in flight) count against the
   * same bound as its outgoing buffer: past it the socket is closed with 4100; true if it was.
   */
  overBound(heldBytes: number): boolean {
    if (this.state === "closed" || this.maxBufferedBytes <= 0) return false;
    if (this.socket.bufferedAmount() + heldBytes <= this.maxBufferedBytes) return false;
    this.terminate(CloseCode.OverCapacity, "Client is not reading; frames held for its subscription past the buffer bound");
    return true;
  }

  /** Sends pusher:error with the close code, then closes with it (spec §1.6). */
  terminate(code: number, message: string): void {
    if (this.state === "closed") return;
    try {
      this.socket.send(errorFrame(code, message));
    } catch (error) {
      // The socket may already be gone; closing below is what matters.
      this.logger.debug(`socket ${this.id}: sending the ${code} error before closing failed`, error);
    }
    this.closeSocket(code, message);
  }

  closeSocket(code: number, reason: string): void {
    this.closeCode ??= code;
    try {
      this.socket.close(code, truncateReason(reason));
    } catch (error) {
      this.logger.debug(`socket ${this.id}: closing with ${code} failed (closed by the peer already?)`, error);
    }
  }

  protected overflow(): void {
    this.terminate(CloseCode.OverCapacity, "Too many messages waiting to be processed");
  }

  protected taskFailed(error: unknown): void {
    this.logger.error(`socket ${this.id}: error while handling a message`, error);
  }
}
