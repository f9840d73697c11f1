// A private Redis Cluster (three masters, no replicas) for the redis-cluster driver's tests:
// spawned redis-server processes in a temp dir, joined with `redis-cli --cluster create`.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { reachable } from "./cluster.ts";

const run = promisify(execFile);

export function redisServerInstalled(): boolean {
  const probe = (bin: string) => spawnSync(bin, ["--version"], { stdio: "ignore" }).status === 0;
  return probe("redis-server") && probe("redis-cli");
}

/**
 * Whether a Redis Cluster test file can run: without redis-server a developer's run skips it,
 * saying why; CI must have it.
 */
export function redisClusterTestable(): boolean {
  if (redisServerInstalled()) return true;
  if (process.env.CI === "true") throw new Error("redis-server/redis-cli are not installed; CI must provide them");
  console.warn("skipping: redis-server/redis-cli are not installed (needed to start a private Redis Cluster)");
  return false;
}

export interface OwnRedisCluster {
  /** REDIS_CLUSTER_NODES value: every master's host:port. */
  nodes: string;
  /** SIGKILLs every redis-server (data is lost), awaits whileDown, then starts them on their saved cluster config. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** Sends a signal to every redis-server (SIGSTOP/SIGCONT for a hung-backend test). */
  signal(sig: NodeJS.Signals): void;
  /**
   * SIGKILLs the one master holding `key`'s slot (its data is lost) and starts it again on its
   * saved cluster config, before the others would mark it failed: the other shards stay up.
   */
  restartShardOf(key: string, whileDown?: () => Promise<void>): Promise<void>;
}

/** Three consecutive ports whose cluster-bus ports (+10000) are free too. */
async function freePorts(): Promise<number[]> {
  for (let base = 7100 + Math.floor(Math.random() * 40) * 10; base < 7900; base += 10) {
    const ports = [base, base + 1, base + 2];
    const busy = await Promise.all(ports.flatMap((p) => [reachable(p), reachable(p + 10000)]));
    if (!busy.some(Boolean)) return ports;
  }
  throw new Error("no free ports for a Redis Cluster");
}

export async function startRedisCluster(): Promise<OwnRedisCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), "switchboard-rc-"));
  const ports = await freePorts();
  let children: ChildProcess[] = [];
  const kill = () => Promise.all(children.map((c) => {
      if (c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((resolve) => c.once("exit", resolve));
      c.kill("SIGKILL");
      return exited;
  }));
  const stop = async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const spawnOne = (port: number) => spawn("redis-server", [
    "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--dir", dir,
    "--cluster-config-file", path.join(dir, `nodes-${port}.conf`), "--save", "", "--appendonly", "no", "--daemonize", "no",
  ], { stdio: "ignore" });
  const launch = async () => {
    children = ports.map(spawnOne);
    for (const port of ports) await until(() => reachable(port), `redis-server on ${port}`);
  };
  // Slots are assigned at once, but each node reports ok only after gossip agrees.
  const healthy = async () => {
    for (const port of ports) {
      await until(async () => (await run("redis-cli", ["-p", String(port), "cluster", "info"])).stdout.includes("cluster_state:ok"), `cluster_state:ok on ${port}`);
    }
  };
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  try {
    await launch();
    await run("redis-cli", ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"]);
    await healthy();
    return {
      nodes: addresses.join(","),
      async restart(whileDown) {
        await kill();
        await whileDown?.();
        await launch();
        await healthy();
      },
      stop,
      async restartShardOf(key, whileDown) {
        const slot = Number((await run("redis-cli", ["-p", String(ports[0]), "cluster", "keyslot", key])).stdout.trim());
        const slots = (await run("redis-cli", ["-p", String(ports[0]), "--json", "cluster", "slots"])).stdout;
        const owner = (JSON.parse(slots) as [number, number, [string, number]][]).find(([from, to]) => slot >= from && slot <= to)?.[2][1];
        const i = ports.indexOf(owner ?? -1);
        if (i < 0) throw new Error(`no master owns slot ${slot}`);
        const child = children[i]!;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
        await whileDown?.();
        children[i] = spawnOne(ports[i]!);
        await until(() => reachable(ports[i]!), `redis-server on ${ports[i]}`);
        await healthy();
      },
      signal(sig) {
        for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(sig);
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up`);
}
