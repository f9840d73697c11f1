// One soak/chaos client socket: a BenchSocket plus what it saw, parsed. Every published event
// carries a unique `id` in its data; the peer records each id once and counts any second delivery
// to the same socket as a duplicate, and keeps its own view of each presence channel's members.
import { BenchSocket } from "../lib/client.ts";
import { channelAuth } from "../lib/sign.ts";
import type { AppCredentials } from "../lib/server.ts";

export interface Member {
  user_id: string;
  user_info?: unknown;
}

export class Peer {
  /** Event ids seen on this socket, per channel. */
  readonly seen = new Map<string, Set<string>>();
  duplicates: { channel: string; id: string }[] = [];
  /** This socket's view of each presence channel: user id -> true. */
  readonly members = new Map<string, Set<string>>();
  /** member_added for a member the view already held, member_removed for one it did not. */
  memberAnomalies: string[] = [];
  /** The last member events this socket got (time, +/-user@channel), to explain a wrong view. */
  readonly memberLog: string[] = [];

  private constructor(readonly sock: BenchSocket, readonly label: string) {
    sock.onFrame = (text) => this.frame(text);
  }

  static async connect(url: string, label: string, timeoutMs = 10_000): Promise<Peer> {
    return new Peer(await BenchSocket.connect(url, timeoutMs), label);
  }

  get socketId(): string {
    return this.sock.socketId;
  }

  get closed(): boolean {
    return this.sock.closed;
  }

  private frame(text: string): void {
    let f: { event: string; channel?: string; data?: unknown };
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    if (f.event === "pusher:ping") return this.sock.send('{"event":"pusher:pong","data":{}}');
    if (!f.channel) return;
    const data = typeof f.data === "string" ? safeParse(f.data) : f.data;
    if (f.event === "pusher_internal:member_added" || f.event === "pusher_internal:member_removed") {
      this.memberLog.push(`${new Date().toISOString().slice(14, 23)} ${f.event.endsWith("added") ? "+" : "-"}${(data as Member).user_id}@${f.channel}`);
      if (this.memberLog.length > 200) this.memberLog.splice(0, 100);
    }
    if (f.event === "pusher_internal:member_added") {
      const view = this.members.get(f.channel);
      const id = (data as Member).user_id;
      if (!view) return;
      if (view.has(id)) this.memberAnomalies.push(`${this.label}: member_added ${id} already in ${f.channel}`);
      view.add(id);
      return;
    }
    if (f.event === "pusher_internal:member_removed") {
      const view = this.members.get(f.channel);
      const id = (data as Member).user_id;
      if (!view) return;
      if (!view.has(id)) this.memberAnomalies.push(`${this.label}: member_removed ${id} not in ${f.channel}`);
      view.delete(id);
      return;
    }
    const id = (data as { id?: unknown } | undefined)?.id;
    if (typeof id !== "string") return;
    let set = this.seen.get(f.channel);
    if (!set) this.seen.set(f.channel, (set = new Set()));
    if (set.has(id)) this.duplicates.push({ channel: f.channel, id });
    else set.add(id);
  }

  /**
   * Subscribes (signing private and presence channels). A presence snapshot is taken while the
   * ack is being matched, not after an await: frames that came in the same TCP read (a
   * member_added right behind the ack) are handled before any continuation runs.
   */
  async subscribe(app: AppCredentials, channel: string, member?: Member, timeoutMs = 10_000): Promise<void> {
    const channelData = member ? JSON.stringify(member) : undefined;
    const needsAuth = channel.startsWith("private-") || channel.startsWith("presence-");
    const quoted = `"channel":${JSON.stringify(channel)}`;
    const reply = this.sock.waitFor((t) => {
      if (!t.includes(quoted)) return false;
      if (t.includes("pusher:subscription_error")) return true;
      if (!t.includes("pusher_internal:subscription_succeeded")) return false;
      if (channel.startsWith("presence-")) {
        const data = JSON.parse(JSON.parse(t).data as string) as { presence: { ids: string[] } };
        this.members.set(channel, new Set(data.presence.ids));
      }
      return true;
    }, timeoutMs);
    const data: Record<string, string> = { channel };
    if (needsAuth) data.auth = channelAuth(app, this.socketId, channel, channelData);
    if (channelData) data.channel_data = channelData;
    this.sock.send(JSON.stringify({ event: "pusher:subscribe", data }));
    const text = await reply;
    if (text.includes("pusher:subscription_error")) throw new Error(`subscription failed: ${text}`);
  }

  /** Unsubscribes; a ping answered afterwards proves the server handled it (frames are in order). */
  async unsubscribe(channel: string, timeoutMs = 10_000): Promise<void> {
    this.members.delete(channel);
    const pong = this.sock.waitFor((t) => t.includes('"pusher:pong"'), timeoutMs);
    this.sock.send(JSON.stringify({ event: "pusher:unsubscribe", data: { channel } }));
    this.sock.send('{"event":"pusher:ping","data":{}}');
    await pong;
  }

  clientEvent(channel: string, event: string, data: unknown): void {
    this.sock.send(JSON.stringify({ event, channel, data }));
  }

  has(channel: string, id: string): boolean {
    return this.seen.get(channel)?.has(id) ?? false;
  }

  close(): Promise<void> {
    this.sock.close();
    return this.sock.closedPromise;
  }

  /** No close frame: the server learns of it from the TCP close (or, for a half-open peer, a timeout). */
  terminate(): Promise<void> {
    this.sock.terminate();
    return this.sock.closedPromise;
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
