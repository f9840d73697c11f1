// A deliberately thin Pusher client for load generation. pusher-js does far more per message
// (JSON parsing, event emitters, timers) than a benchmark client should; here the hot path is a
// single callback on the raw frame text so the client is not what gets measured.

/** The subset of the WHATWG WebSocket API used here (Bun/Deno global, or the ws package on Node). */
interface WebSocketLike {
  readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number): void;
}
type WebSocketCtor = new (url: string) => WebSocketLike;

let ctor: WebSocketCtor | undefined;

/** Bun has a fast native WebSocket client; Node 20 has none without a flag, so fall back to ws. */
export async function webSocketImpl(): Promise<{ name: string }> {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function") {
    ctor = (globalThis as unknown as { WebSocket: WebSocketCtor }).WebSocket;
    return { name: "global WebSocket" };
  }
  const ws = await import("ws");
  ctor = ws.default as unknown as WebSocketCtor;
  return { name: "ws package" };
}

export function nowMs(): number {
  return performance.now();
}

type Waiter = { match: (text: string) => boolean; resolve: (text: string) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

export class BenchSocket {
  socketId = "";
  closed = false;
  closeCode = 0;
  /** Hot-path handler for every frame that no waiter consumed. */
  onFrame?: (text: string) => void;
  private waiters: Waiter[] = [];
  private closedResolve!: () => void;
  readonly closedPromise = new Promise<void>((r) => (this.closedResolve = r));

  private constructor(private readonly ws: WebSocketLike) {
    ws.onmessage = (ev) => {
      const text = typeof ev.data === "string" ? ev.data : String(ev.data);
      if (this.waiters.length > 0) {
        const i = this.waiters.findIndex((w) => w.match(text));
        if (i >= 0) {
          const [w] = this.waiters.splice(i, 1);
          clearTimeout(w!.timer);
          w!.resolve(text);
          return;
        }
      }
      if (this.onFrame) this.onFrame(text);
      // Server-initiated liveness check (only after activity_timeout of silence): answer it.
      else if (text.includes('"pusher:ping"')) this.send('{"event":"pusher:pong","data":{}}');
    };
    ws.onclose = (ev) => {
      this.closed = true;
      this.closeCode = ev.code;
      for (const w of this.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`socket closed (${ev.code})`));
      }
      this.closedResolve();
    };
    ws.onerror = () => {};
  }

  /** Opens a socket and waits for pusher:connection_established. */
  static async connect(url: string, timeoutMs = 10_000): Promise<BenchSocket> {
    if (!ctor) await webSocketImpl();
    const sock = new BenchSocket(new ctor!(url));
    const text = await sock.waitFor((t) => t.includes("pusher:connection_established") || t.includes("pusher:error"), timeoutMs);
    const frame = JSON.parse(text) as { event: string; data: string };
    if (frame.event !== "pusher:connection_established") {
      sock.close();
      throw new Error(`connection refused: ${text}`);
    }
    sock.socketId = (JSON.parse(frame.data) as { socket_id: string }).socket_id;
    return sock;
  }

  waitFor(match: (text: string) => boolean, timeoutMs = 10_000): Promise<string> {
    if (this.closed) return Promise.reject(new Error(`socket closed (${this.closeCode})`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`timed out after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  send(text: string): void {
    if (!this.closed && this.ws.readyState === 1) this.ws.send(text);
  }

  /** Subscribes and resolves with the subscription_succeeded frame (rejects on subscription_error). */
  async subscribe(channel: string, auth?: string, channelData?: string, timeoutMs = 10_000): Promise<string> {
    const reply = this.waitFor((t) => t.includes(`"channel":${JSON.stringify(channel)}`) &&
      (t.includes("pusher_internal:subscription_succeeded") || t.includes("pusher:subscription_error")), timeoutMs);
    const data: Record<string, string> = { channel };
    if (auth) data.auth = auth;
    if (channelData) data.channel_data = channelData;
    this.send(JSON.stringify({ event: "pusher:subscribe", data }));
    const text = await reply;
    if (text.includes("pusher:subscription_error")) throw new Error(`subscription failed: ${text}`);
    return text;
  }

  /** Drops the TCP connection without a close frame (ws package; elsewhere a normal close). */
  terminate(): void {
    const ws = this.ws as WebSocketLike & { terminate?: () => void };
    if (ws.terminate) ws.terminate();
    else this.close();
  }

  close(): void {
    try {
      this.ws.close(1000);
    } catch {
      // already closing
    }
  }
}

export function wsUrl(host: string, port: number, key: string): string {
  return `ws://${host}:${port}/app/${key}?protocol=7&client=js&version=8.4.0&flash=false`;
}

/** Closes sockets and waits (bounded) until the server has acknowledged every close. */
export async function closeAll(sockets: BenchSocket[], timeoutMs = 10_000): Promise<void> {
  for (const s of sockets) s.close();
  await Promise.race([Promise.all(sockets.map((s) => s.closedPromise)), sleep(timeoutMs)]);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
