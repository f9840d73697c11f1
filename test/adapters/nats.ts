// A nats-server of our own for the nats driver's tests: a client port, a WebSocket listener
// (nats.ws speaks only WebSocket) and JetStream in a private store directory that survives a
// restart, as a real deployment's would.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { natsNames } from "../../src/adapters/nats/names.ts";
import { token } from "../../src/adapters/nats/state.ts";
import { afterAll, beforeAll } from "vitest";
import type { TestServer } from "../helpers/server.ts";
import { freePort, ownProcess, requireService, startCluster, type ClusterOptions } from "./cluster.ts";

export const natsServerInstalled = (): boolean => spawnSync("nats-server", ["--version"]).status === 0;

export interface OwnNats {
  /** ws://127.0.0.1:<port>, for NATS_SERVERS. */
  url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** Kills the server and removes its store. */
  destroy(): Promise<void>;
  /** Sends a signal (SIGSTOP/SIGCONT for a hung-backend test) to the running server. */
  signal(sig: NodeJS.Signals): void;
}

export async function ownNats(): Promise<OwnNats> {
  const [port, wsPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-nats-"));
  const conf = path.join(dir, "nats.conf");
  writeFileSync(conf, [
    `listen: 127.0.0.1:${port}`,
    `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`,
    `jetstream { store_dir: "${path.join(dir, "js")}" }`,
  ].join("\n"));
  const server = ownProcess("nats-server", ["-c", conf], [port, wsPort]);
  return {
    url: `ws://127.0.0.1:${wsPort}`,
    start: server.start,
    kill: server.kill,
    signal: server.signal,
    async destroy() {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Keys of the prefix's KV bucket that still name the node (a contribution to a channel, user or quota). */
export async function natsTraces(url: string, prefix: string, nodeId: string): Promise<string[]> {
  (globalThis as { WebSocket?: unknown }).WebSocket ??= (await import("ws")).WebSocket;
  const { connect } = await import("nats.ws");
  const nc = await connect({ servers: url });
  try {
    const kv = await nc.jetstream().views.kv(natsNames(prefix).bucket, { bindOnly: true });
    const left: string[] = [];
    for await (const k of await kv.keys()) {
      const entry = await kv.get(k);
      if (entry?.operation !== "PUT") continue;
      if (k.includes(token(nodeId)) || new TextDecoder().decode(entry.value).includes(nodeId)) left.push(k);
    }
    return left;
  } finally {
    await nc.close();
  }
}

/** A nats-server for the calling test file, started before its tests and removed after them. */
export async function natsForFile(): Promise<{ available: boolean; url(): string }> {
  const available = await requireService(natsServerInstalled(), "the nats-server binary");
  let nats: OwnNats | undefined;
  beforeAll(async () => {
    if (!available) return;
    nats = await ownNats();
    await nats.start();
  });
  afterAll(() => nats?.destroy());
  return { available, url: () => nats!.url };
}

/** Starts cluster nodes with ADAPTER_DRIVER=nats on the given server. */
export function natsCluster(url: () => string): (size: number, options: ClusterOptions) => Promise<TestServer[]> {
  return (size, options) => startCluster(size, { ...options, env: { ADAPTER_DRIVER: "nats", NATS_SERVERS: url(), ...options.env } });
}
