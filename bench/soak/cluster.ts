// The chaos run's cluster: three server processes on fixed loopback ports (so a node restarted
// after SIGKILL comes back where its clients look for it) and a bus of the run's own (a
// redis-server or a nats-server on spare ports, never the shared 6379), each of which can be
// killed, frozen and started again.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, ownProcess } from "../../test/adapters/cluster.ts";
import { spawnServer, type BenchServer } from "../lib/server.ts";

export interface Bus {
  name: "redis" | "nats";
  env: Record<string, string>;
  start(): Promise<void>;
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export async function ownBus(name: string, prefix: string): Promise<Bus> {
  if (name === "redis") {
    const port = await freePort();
    const server = ownProcess("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], [port]);
    return { name, env: { ADAPTER_DRIVER: "redis", REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_PREFIX: prefix }, ...server, destroy: server.kill };
  }
  if (name === "nats") {
    // As test/adapters/nats.ts: a WebSocket listener for nats.ws and JetStream in a store that
    // survives a restart, as a real deployment's would.
    const [port, wsPort] = [await freePort(), await freePort()];
    const dir = mkdtempSync(path.join(tmpdir(), "switchboard-chaos-nats-"));
    const conf = path.join(dir, "nats.conf");
    writeFileSync(conf, [`listen: 127.0.0.1:${port}`, `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`, `jetstream { store_dir: "${path.join(dir, "js")}" }`].join("\n"));
    const server = ownProcess("nats-server", ["-c", conf], [port, wsPort]);
    return {
      name,
      env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: `ws://127.0.0.1:${wsPort}`, REDIS_PREFIX: prefix.replace(/[^A-Za-z0-9_]/g, "_") },
      ...server,
      async destroy() {
        await server.kill();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`unknown bus ${name} (use redis or nats)`);
}

export type NodeState = "up" | "stopped" | "down";

export class ClusterNode {
  state: NodeState = "down";
  server?: BenchServer;
  /** Output of earlier incarnations, kept for the report when something fails. */
  private past = "";

  constructor(
    readonly index: number, readonly port: number, private readonly runtime: string, private readonly env: Record<string, string>,
    /** Appends the node's whole output (every incarnation) to this file. */
    private readonly logFile?: string,
  ) {}

  async start(): Promise<void> {
    this.server = await spawnServer({
      runtime: this.runtime, nodeBin: process.execPath, env: { ...this.env, PORT: String(this.port) }, logFile: this.logFile,
    });
    this.state = "up";
  }

  async kill(): Promise<void> {
    const pid = this.server?.pid;
    if (!pid || this.state === "down") return;
    if (this.state === "stopped") process.kill(pid, "SIGCONT");
    process.kill(pid, "SIGKILL");
    this.state = "down";
    // Wait until the process is gone, so the port is free for the restart.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    this.past += this.server!.output();
  }

  freeze(): void {
    if (this.state !== "up") return;
    process.kill(this.server!.pid!, "SIGSTOP");
    this.state = "stopped";
  }

  thaw(): void {
    if (this.state !== "stopped") return;
    process.kill(this.server!.pid!, "SIGCONT");
    this.state = "up";
  }

  output(): string {
    return (this.past + (this.server?.output() ?? "")).slice(-8000);
  }

  async stop(): Promise<void> {
    this.thaw();
    if (this.state === "up") await this.server?.stop();
    this.state = "down";
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
