// Start-up warm-up of the Node handshake path. A fresh Node process runs its first thousands of
// handshakes in V8's interpreter while the JIT catches up, and grows the memory thousands of
// sockets need for the first time: 267 µs of server CPU per connection for the first 5,000 against
// 138 µs once warm (issue 26; bench/README.md "Cold and warm processes"), and a process is cold
// exactly when every client reconnects to it, right after a deploy. So before the public
// port opens, the process runs WARMUP_HANDSHAKES real handshakes (TCP accept, HTTP parse, router,
// the core's checks, ws's upgrade, connection_established, a subscribe, the close handshake)
// through the same listener code, against a throwaway instance: its own random app, local adapter,
// memory app store, no webhooks, no metrics listener, on 127.0.0.1 only and closed before the
// real port listens. The real instance sees none of it: no connection counted, no event, no webhook.
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import type { Hono } from "hono";
import { createSwitchboard, type Instance, type Platform } from "../src/bootstrap.ts";
import type { Config } from "../src/config/load.ts";
import { parseApp } from "../src/core/app.ts";
import type { Logger } from "../src/core/runtime.ts";

/**
 * The warm-up's bounds (issue 26: it must cost less than a second): the CPU it may spend, and how
 * long it may delay the port opening on a machine too busy to give it that CPU soon.
 */
const WARM_UP_CPU_MS = 450;
const WARM_UP_WALL_MS = 3000;
/**
 * Handshakes in flight at once. Many at a time, not a few in a row: what a fresh process lacks
 * is not only compiled code but memory it has never touched (heap pages, socket buffers) for many
 * sockets at once; 16 in a row left the first storm as slow as without a warm-up (bench/README.md).
 * Those still in flight when the CPU bound is reached finish: ~0.8-0.9 s of CPU in all.
 */
const WARM_UP_CONCURRENCY = 256;

/** The real listener code on 127.0.0.1 and a free port, for another router. */
type Listen = (router: Hono) => Promise<Server>;

/** The warm-up as node.ts runs it: WARMUP_HANDSHAKES, the bounds above, one info line. */
export async function warmUpNode(config: Config, platform: Platform, logger: Logger, listen: Listen): Promise<void> {
  if (config.warmupHandshakes <= 0) return;
  const restore = tierUpEarly(process.execArgv, process.env.NODE_OPTIONS);
  const warm = await warmUpHandshakes(config, platform, {
    handshakes: config.warmupHandshakes,
    cpuBudgetMs: WARM_UP_CPU_MS,
    concurrency: WARM_UP_CONCURRENCY,
    wallLimitMs: WARM_UP_WALL_MS,
    listen: async (router) => {
      const srv = await listen(router);
      return {
        port: (srv.address() as AddressInfo).port,
        close: () => new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        }),
      };
    },
  }, logger);
  restore();
  const odd = [warm.failed ? `${warm.failed} failed` : "", warm.cut ? `${warm.cut} cut at the time limit` : ""].filter(Boolean);
  logger.info(`warm-up: ${warm.handshakes} handshakes in ${warm.ms} ms (${warm.cpuMs} ms of CPU)${odd.map((o) => `, ${o}`).join("")} (WARMUP_HANDSHAKES=0 skips it)`);
}

export interface WarmUpOptions {
  /** How many handshakes at most (WARMUP_HANDSHAKES); 0 skips the warm-up. */
  handshakes: number;
  /**
   * CPU bound, in ms of this process's CPU time (all threads: the JIT compiles in the background):
   * no handshake starts after it. On a busy machine the process gets less of a core, so a
   * wall-clock bound would leave it half warm; `wallLimitMs` still bounds the delay.
   */
  cpuBudgetMs: number;
  /** Wall-clock bound: no handshake starts after it, and stragglers are cut 1 s later. */
  wallLimitMs: number;
  /** Handshakes in flight at once. */
  concurrency?: number;
  /** The listener code the real port uses, on 127.0.0.1 and a free port, for another router. */
  listen(router: Hono): Promise<{ port: number; close(): Promise<void> }>;
}

export interface WarmUpResult {
  handshakes: number;
  /** Did not complete: refused, reset, or a step never answered. */
  failed: number;
  /** Still running at the time limit and cut (a slow or loaded machine, not a fault). */
  cut: number;
  /** Wall-clock and CPU time it took, the throwaway instance's start and stop included. */
  ms: number;
  cpuMs: number;
}

/**
 * V8's default bytecode budget a function runs through before it is optimized, for the V8 versions
 * whose default is known here (Node 20's 11.3); on others the budget is left alone, since it
 * could not be put back.
 */
const DEFAULT_INTERRUPT_BUDGET: Record<string, number> = { "11.3": 67_584 };
/** During the warm-up: 8x sooner, so its few hundred handshakes get the path optimized. */
const WARM_UP_INTERRUPT_BUDGET = 8_000;

/**
 * Lowers V8's tier-up budget for the warm-up and returns what restores the default. With the
 * default, the CPU the warm-up may spend (a few hundred handshakes) leaves most of the path in the
 * interpreter and baseline code, to be optimized during the first storm anyway (with 16 in flight,
 * first storm 250–262 µs per connection with it against 260–304 without, three noisy pairs on a
 * loaded machine). Restored at once, so later code tiers up with full type feedback. Left alone
 * when --interrupt-budget was given (command line or NODE_OPTIONS).
 */
export function tierUpEarly(execArgv: string[], nodeOptions = "", v8Version = process.versions.v8): () => void {
  const usual = DEFAULT_INTERRUPT_BUDGET[v8Version.split(".").slice(0, 2).join(".")];
  if (usual === undefined || [...execArgv, nodeOptions].some((arg) => /interrupt[-_]budget/.test(arg))) return () => {};
  setFlagsFromString(`--interrupt-budget=${WARM_UP_INTERRUPT_BUDGET}`);
  return () => setFlagsFromString(`--interrupt-budget=${usual}`);
}

/** A masked client frame (RFC 6455 §5.3) with an all-zero mask, so the payload goes as is. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error("warm-up frames are short");
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/** The throwaway instance's settings: the real ones (path prefix, limits), minus every backend and listener. */
export function warmUpConfig(config: Config, key: string): Config {
  const app = parseApp({ id: "switchboard-warm-up", key, secret: randomBytes(16).toString("hex") });
  return {
    ...config,
    apps: [app],
    devApp: false,
    drivers: {
      adapter: { kind: "adapter", name: "local", options: {} },
      "app-store": { kind: "app-store", name: "memory", options: {} },
    },
    rateLimiterEnabled: false,
    consoleEnabled: false,
    metricsEnabled: false,
    sslEnabled: false,
    maxNodeConnections: -1,
    requireProtocolParam: false,
    logLevel: "warn",
    debug: false,
    shutdownGracePeriodMs: 0,
    shutdownCloseSpreadMs: 0,
  };
}

/** What the warm-up logs: warnings and errors of the throwaway instance, marked as such. */
function warmUpLogger(logger: Logger): Logger {
  return {
    debug: () => {},
    info: () => {},
    warn: (message, extra) => logger.warn(`warm-up: ${message}`, extra),
    error: (message, extra) => logger.error(`warm-up: ${message}`, extra),
  };
}

/**
 * Runs the warm-up; never throws (a failed warm-up only means a slower first storm). The caller
 * logs the result.
 */
export async function warmUpHandshakes(config: Config, platform: Platform, options: WarmUpOptions, logger: Logger): Promise<WarmUpResult> {
  const started = performance.now();
  const cpuAtStart = cpuMs();
  const result: WarmUpResult = { handshakes: 0, failed: 0, cut: 0, ms: 0, cpuMs: 0 };
  if (options.handshakes <= 0) return result;
  const key = randomBytes(16).toString("hex");
  let instance: Instance | undefined;
  let listener: { port: number; close(): Promise<void> } | undefined;
  let cut: ReturnType<typeof setTimeout> | undefined;
  try {
    instance = await createSwitchboard(warmUpConfig(config, key), { ...platform, logger: warmUpLogger(logger) });
    listener = await options.listen(instance.router);
    const prefix = config.pathPrefix.replace(/\/+$/, "");
    const request = Buffer.from(
      `GET ${prefix}/app/${key}?protocol=7&client=js&version=8.4.0&flash=false HTTP/1.1\r\nHost: 127.0.0.1:${listener.port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c3dpdGNoYm9hcmQtd2FybQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    const steps: Step[] = [
      { waitFor: "connection_established", then: clientFrame(1, Buffer.from('{"event":"pusher:subscribe","data":{"channel":"warm-up"}}')) },
      { waitFor: "subscription_succeeded", then: clientFrame(1, Buffer.from('{"event":"pusher:ping","data":{}}')) },
      // 1000, normal closure: the server answers the close handshake and ends the connection.
      { waitFor: "pusher:pong", then: clientFrame(8, Buffer.from([0x03, 0xe8])) },
    ];
    const deadline = started + options.wallLimitMs;
    const withinBudget = () => performance.now() < deadline && cpuMs() - cpuAtStart < options.cpuBudgetMs;
    const live = new Set<Socket>();
    // Stragglers (a stuck peer, a loaded machine) are cut so the warm-up stays bounded.
    let cutting = false;
    cut = setTimeout(() => {
      cutting = true;
      live.forEach((s) => s.destroy());
    }, options.wallLimitMs + 1000);
    const worker = async () => {
      while (result.handshakes + result.failed < options.handshakes && withinBudget()) {
        if (await handshake(listener!.port, request, steps, live)) result.handshakes++;
        else if (cutting) result.cut++;
        else if (++result.failed > 10 && result.handshakes === 0) throw new Error("the first handshakes all failed");
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  } catch (error) {
    logger.warn(`warm-up stopped early (the first reconnect storm will be slower): ${(error as Error).message}`);
  } finally {
    clearTimeout(cut);
    await listener?.close().catch((error: unknown) => logger.debug("warm-up: closing its listener failed", error));
    await instance?.stop().catch((error: unknown) => logger.debug("warm-up: stopping its instance failed", error));
  }
  result.ms = Math.round(performance.now() - started);
  result.cpuMs = Math.round(cpuMs() - cpuAtStart);
  return result;
}

/** CPU time of the whole process so far (user + system, every thread), in ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface Step {
  /** Text whose arrival ends the step. */
  waitFor: string;
  /** Sent once it arrived. */
  then: Buffer;
}

/** One client: upgrade, the steps in order, the close handshake. True when all of it happened. */
function handshake(port: number, request: Buffer, steps: Step[], live: Set<Socket>): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    live.add(socket);
    let step = 0;
    let seen = "";
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      seen += chunk.toString("latin1");
      let at: number;
      while (step < steps.length && (at = seen.indexOf(steps[step]!.waitFor)) >= 0) {
        seen = seen.slice(at + steps[step]!.waitFor.length);
        socket.write(steps[step]!.then);
        step++;
      }
    });
    socket.on("end", () => socket.end());
    // A failure shows as a step not reached; the count is in the start-up line.
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      live.delete(socket);
      resolve(step === steps.length);
    });
  });
}
