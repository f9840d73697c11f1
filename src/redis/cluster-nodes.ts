// REDIS_CLUSTER_NODES, read once for every Redis Cluster client (the adapter, the webhook queue,
// the app cache, the per-IP limiter): startup nodes as host:port, redis://host:port or
// rediss://host:port. rediss:// means TLS, for every node (ioredis's redisOptions.tls).

export interface ClusterNodes {
  nodes: { host: string; port: number }[];
  tls: boolean;
}

const ENTRY = /^(rediss?:\/\/)?([^\s,:/]+):(\d{1,5})$/;

/** Parses the list; throws naming the entry that is wrong (the config schema runs it first). */
export function parseClusterNodes(list: string): ClusterNodes {
  const entries = list.split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error("must name at least one host:port");
  const parsed = entries.map((entry) => {
    const m = ENTRY.exec(entry);
    if (!m) throw new Error(`"${entry}" is not host:port, redis://host:port or rediss://host:port`);
    return { tls: m[1] === "rediss://", host: m[2]!, port: Number(m[3]) };
  });
  const tls = parsed[0]!.tls;
  if (parsed.some((p) => p.tls !== tls)) throw new Error("mixes rediss:// (TLS) and plain nodes: one cluster uses one or the other");
  return { nodes: parsed.map(({ host, port }) => ({ host, port })), tls };
}
