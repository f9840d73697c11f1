// One Durable Object per app (runtimes/workers/worker.ts routes to it): the whole core, under the
// same Hono router as every other runtime, with the local adapter, since the object holds all of
// its app's sockets. It does nothing in its constructor: the core starts on the first event
// (a request, a socket's message or close, the alarm), which after an eviction is also when it is
// rebuilt from the sockets' attachments and the object's storage (memory.ts).
//
// Hibernation: sockets are accepted with the Hibernation API; pusher-js's pusher:ping is answered
// by the auto-response without waking the object; the liveness sweep and every other timer run
// from the alarm (alarm-timers.ts), so an object whose sockets are idle holds nothing that keeps
// it awake and can be evicted.
import { createSwitchboard, type Instance, type Platform } from "../../src/bootstrap.ts";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { CloseCode, PONG_FRAME } from "../../src/core/messages.ts";
import type { ConnectionSnapshot } from "../../src/core/snapshot.ts";
import type { RawSocket } from "../../src/core/runtime.ts";
import { jsonError } from "../../src/http/errors.ts";
import { consoleLogger, effectiveLevel } from "../../src/logging/logger.ts";
import { AlarmTimers } from "./alarm-timers.ts";
import { workerConfig, workerFile } from "./config.ts";
import { DurableQueue } from "./durable-queue.ts";
import { ObjectMemory } from "./memory.ts";
import { GONE, HibernatingSockets, WorkerSocket } from "./sockets.ts";

/** pusher-js's exact ping frame (the auto-response matches the whole string). */
const CLIENT_PING = '{"event":"pusher:ping","data":{}}';

export class SwitchboardObject {
  private readonly sockets: HibernatingSockets;
  private instance: Promise<Instance> | undefined = undefined;
  private timers: AlarmTimers | undefined = undefined;
  /** When the liveness sweep is next due, and its timer. */
  private sweepAt: number | undefined = undefined;
  private sweepTimer: unknown = undefined;

  constructor(private readonly state: DurableObjectState, private readonly env: Record<string, unknown>) {
    this.sockets = new HibernatingSockets(state);
  }

  async fetch(request: Request): Promise<Response> {
    let core: Instance;
    try {
      core = await this.core();
    } catch (error) {
      return jsonError(500, `Switchboard could not start: ${(error as Error).message}`);
    }
    return core.router.fetch(request);
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.core();
    this.sockets.message(ws, message);
  }

  async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.core();
    this.sockets.closed(ws, code, reason);
  }

  async webSocketError(ws: WebSocket): Promise<void> {
    await this.core();
    this.sockets.closed(ws, 1006, "");
  }

  async alarm(): Promise<void> {
    await this.core();
    this.timers!.fire();
  }

  /** The core, started once per life of the object (a failed start is logged and kept: config errors do not heal). */
  private core(): Promise<Instance> {
    return (this.instance ??= this.start().catch((error: unknown) => {
      console.error(`[switchboard] error: the Durable Object could not start: ${(error as Error).message}`);
      throw error;
    }));
  }

  private async start(): Promise<Instance> {
    const config = workerConfig(this.env);
    const logger = consoleLogger(effectiveLevel(config), config.logFormat);
    const timers = (this.timers = new AlarmTimers(this.state.storage, logger));
    const memory = new ObjectMemory(this.state.storage.sql, logger);
    const platform: Platform = {
      name: "workerd",
      sockets: this.sockets,
      timers,
      crypto: webCryptoProvider(),
      readTextFile: async (path) => workerFile(this.env, path),
      logger,
      hostSweeps: true,
      decorateAdapter: (adapter) => memory.mirrorCache(adapter, timers.now),
      decorateQueue: (queue) => new DurableQueue(queue, this.state.storage.sql, logger),
    };
    const instance = await createSwitchboard(config, platform);
    const server = instance.server;
    this.state.setWebSocketAutoResponse(new WebSocketRequestResponsePair(CLIENT_PING, PONG_FRAME));
    await memory.restoreCache(server.adapter, timers.now);
    await this.rebuild(instance, memory);
    // After every change a socket's snapshot is kept; a closed socket's is dropped.
    server.events.subscribe("hibernation", (e) => {
      if (e.kind === "connection_closed") return memory.forget(e.socketId);
      if (e.kind !== "connection_opened" && e.kind !== "subscribed" && e.kind !== "unsubscribed" && e.kind !== "signed_in") return;
      const socket = server.registry.socket(e.socketId)?.socket;
      const snapshot = server.snapshot(e.socketId);
      if (socket instanceof WorkerSocket && snapshot) memory.keep(socket.ws, snapshot);
      if (e.kind === "connection_opened") {
        const first = Math.min(config.activityTimeout, ...(snapshot?.authDeadline ? [config.userAuthenticationTimeout] : []));
        this.sweepBy(timers.now() + first * 1000);
      }
    }, ["connection_opened", "subscribed", "unsubscribed", "signed_in", "connection_closed"]);
    this.sweepBy(server.sweep());
    return instance;
  }

  /**
   * After an eviction: the sockets still connected come back from their attachments, and those
   * kept in storage but gone (a deploy, a restart) are restored closed and closed, which
   * announces their member_removed / channel_vacated and sends those webhooks.
   */
  private async rebuild(instance: Instance, memory: ObjectMemory): Promise<void> {
    const alive: { socket: WorkerSocket; snapshot: ConnectionSnapshot }[] = [];
    for (const ws of this.state.getWebSockets()) {
      const snapshot = memory.snapshotOf(ws);
      if (snapshot) alive.push({ socket: this.sockets.wrap(ws), snapshot });
      // Evicted before its handshake ended: the client reconnects.
      else ws.close(CloseCode.Reconnect, "Server restarted, reconnect");
    }
    const vanished = memory.vanished(new Set(alive.map((a) => a.snapshot.id)));
    if (alive.length === 0 && vanished.length === 0) return;
    const entries: { socket: RawSocket; snapshot: ConnectionSnapshot }[] = [...alive, ...vanished.map((snapshot) => ({ socket: GONE, snapshot }))];
    const handles = await instance.server.restore(entries);
    instance.logger.info(`rebuilt after an eviction or restart: ${alive.length} socket(s) restored, ${vanished.length} vanished socket(s) closed`);
    entries.forEach(({ socket, snapshot }, i) => {
      const handle = handles[i];
      if (!handle) {
        memory.forget(snapshot.id);
        if (socket instanceof WorkerSocket) socket.close(CloseCode.AppDisabled, "Application no longer exists");
      } else if (socket instanceof WorkerSocket) {
        socket.handle = handle;
        this.sockets.adopt(socket);
      } else handle.close();
    });
  }

  /** Runs the liveness sweep at `at` at the latest; each sweep schedules the next from its deadlines. */
  private sweepBy(at: number | undefined): void {
    const timers = this.timers!;
    if (at === undefined || (this.sweepAt !== undefined && this.sweepAt <= at)) return;
    if (this.sweepTimer !== undefined) timers.clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = timers.setTimeout(() => {
      this.sweepAt = this.sweepTimer = undefined;
      void this.instance?.then((instance) => this.sweepBy(instance.server.sweep()));
    }, Math.max(0, at - timers.now()));
  }
}
