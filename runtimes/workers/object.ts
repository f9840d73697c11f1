// One Durable Object per app (runtimes/workers/worker.ts routes to it): the whole core, under the
// same Hono router as every other runtime, with the local adapter, since the object holds all of
// its app's sockets. It does nothing in its constructor: the core starts on the first event
// (a request, a socket's message or close, the alarm), which after an eviction is also when it is
// rebuilt.
import { createSwitchboard, type Instance, type Platform } from "../../src/bootstrap.ts";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { consoleLogger, effectiveLevel } from "../../src/logger.ts";
import { AlarmTimers } from "./alarm-timers.ts";
import { workerConfig, workerFile } from "./config.ts";
import { HibernatingSockets } from "./sockets.ts";
import { jsonError } from "../../src/http/errors.ts";

export class SwitchboardObject {
  private readonly sockets: HibernatingSockets;
  private instance: Promise<Instance> | undefined = undefined;
  private timers: AlarmTimers | undefined = undefined;

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
    const platform: Platform = {
      name: "workerd",
      sockets: this.sockets,
      timers,
      crypto: webCryptoProvider(),
      readTextFile: async (path) => workerFile(this.env, path),
      logger,
    };
    return createSwitchboard(config, platform);
  }
}
