// The cluster scenarios' message buses: the shared Redis on 127.0.0.1:6379, or a nats-server of
// the bench's own (started like test/adapters/nats.ts: a WebSocket listener for nats.ws and
// JetStream for the KV bucket). Each gives a counter of the messages on the bench app's bus (a
// bus per app: src/adapters/cluster/app-buses.ts), read from outside the nodes, and the broker's
// pid for its CPU.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { appToken } from "../../src/adapters/cluster/app-buses.ts";
import { natsNames } from "../../src/adapters/nats/names.ts";
import { BENCH_APP } from "./server.ts";

export const REDIS_URL = "redis://127.0.0.1:6379";

export function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, "127.0.0.1", () => done(true));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Counts the bus messages whose payload contains `marker` (and all of them). */
export interface BusCounter {
  /** Server env for the nodes of this cluster. */
  env: Record<string, string>;
  brokerPid?: number;
  total: number;
  matching: number;
  close(): Promise<void>;
}

export async function redisBus(prefix: string, marker: string): Promise<BusCounter> {
  if (!(await reachable(6379))) throw new Error("Redis on 127.0.0.1:6379 is not reachable");
  const { Redis } = await import("ioredis");
  const sub = new Redis(REDIS_URL, { lazyConnect: true });
  await sub.connect();
  const probe = new Redis(REDIS_URL);
  const info = /process_id:(\d+)/.exec(await probe.info("server"));
  probe.disconnect();
  const counter: BusCounter = {
    env: { ADAPTER_DRIVER: "redis", REDIS_URL, REDIS_PREFIX: prefix },
    brokerPid: info ? Number(info[1]) : undefined,
    total: 0,
    matching: 0,
    async close() {
      sub.disconnect();
    },
  };
  sub.on("message", (_channel: string, payload: string) => {
    counter.total++;
    if (payload.includes(marker)) counter.matching++;
  });
  await sub.subscribe(`${prefix}{${appToken(BENCH_APP.id)}}:bus`);
  return counter;
}

export async function natsBus(prefix: string, marker: string): Promise<BusCounter> {
  const [port, wsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-bench-nats-"));
  const conf = path.join(dir, "nats.conf");
  writeFileSync(conf, [
    `listen: 127.0.0.1:${port}`,
    `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`,
    `jetstream { store_dir: "${path.join(dir, "js")}" }`,
  ].join("\n"));
  const child = spawn("nats-server", ["-c", conf], { stdio: "ignore" });
  const failed = new Promise<never>((_, reject) => child.once("error", (e) => reject(new Error(`nats-server: ${e.message}`))));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = (async () => {
      for (let i = 0; i < 100; i++) {
        if ((await reachable(port)) && (await reachable(wsPort))) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("nats-server did not start");
    })();
    await Promise.race([started, failed]);
    const url = `ws://127.0.0.1:${wsPort}`;
    const { connect } = await import("nats.ws");
    const nc = await connect({ servers: url });
    const counter: BusCounter = {
      env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: url, REDIS_PREFIX: prefix },
      brokerPid: child.pid,
      total: 0,
      matching: 0,
      async close() {
        await nc.close().catch(() => {});
        await stop();
      },
    };
    const decoder = new TextDecoder();
    const sub = nc.subscribe(natsNames(prefix).app(BENCH_APP.id));
    void (async () => {
      for await (const m of sub) {
        counter.total++;
        if (decoder.decode(m.data).includes(marker)) counter.matching++;
      }
    })();
    await nc.flush();
    return counter;
  } catch (error) {
    await stop();
    throw error;
  }
}
