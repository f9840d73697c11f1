// Settings the other servers split into parts that are one setting here, folded in after the
// layers are merged (so a flag's REDIS_URL still takes an environment REDIS_PASSWORD):
// - Redis: Socket Rush's scheme-less redis_url ("localhost:6379") and --redis-tls; Sockudo's and
//   Soketi's host/port/db/password pieces; --redis-cluster turning the redis drivers into
//   redis-cluster ones with the URL's host:port as the start-up node.
// - Soketi's app-manager cache switch: off means our "none" cache.
// - METRICS_HOST follows BIND_ADDRESS when only that is given: a server bound to 127.0.0.1 must
//   not expose its metrics on every interface.
import { truthy } from "./aliases.ts";

type Entry = { value: unknown; label: string };
type Merged = Map<string, Entry>;

export function deriveSettings(merged: Merged, warnings: string[]): void {
  deriveRedisUrl(merged);
  deriveRedisCluster(merged, warnings);
  const cache = merged.get("appManagerCacheEnabled");
  if (cache && !truthy(cache.value)) merged.set("cacheDriver", { value: "none", label: cache.label });
  const bind = merged.get("bindAddress");
  if (bind && !merged.has("metricsHost")) merged.set("metricsHost", { value: bind.value, label: bind.label });
}

function deriveRedisUrl(merged: Merged): void {
  const part = (key: string) => merged.get(key);
  const host = part("redisHost"), port = part("redisPort"), db = part("redisDb");
  const user = part("redisUsername"), password = part("redisPassword"), tls = part("redisTls");
  let url = merged.get("redisUrl");
  if (!url && (host || port || db)) {
    const built = `redis://${host?.value ?? "127.0.0.1"}:${port?.value ?? 6379}${db ? `/${db.value}` : ""}`;
    url = { value: built, label: [host, port, db].filter(Boolean).map((e) => e!.label).join(" + ") };
  }
  if (!url) return;
  let value = String(url.value).trim();
  let label = url.label;
  // Socket Rush's README writes the URL without a scheme (localhost:6379).
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) value = `redis://${value}`;
  if (tls && truthy(tls.value) && value.startsWith("redis://")) {
    value = `rediss://${value.slice("redis://".length)}`;
    label = `${label} + ${tls.label}`;
  }
  if ((password || user) && !/^[a-z]+:\/\/[^/]*@/i.test(value)) {
    const credentials = `${user ? encodeURIComponent(String(user.value)) : ""}:${password ? encodeURIComponent(String(password.value)) : ""}@`;
    value = value.replace(/^([a-z]+:\/\/)/i, `$1${credentials}`);
    label = `${label} + ${[user, password].filter(Boolean).map((e) => e!.label).join(" + ")}`;
  }
  merged.set("redisUrl", { value, label });
}

function deriveRedisCluster(merged: Merged, warnings: string[]): void {
  const cluster = merged.get("redisCluster");
  if (!cluster || !truthy(cluster.value)) return;
  let switched = false;
  for (const selector of ["adapterDriver", "cacheDriver", "queueDriver"]) {
    const entry = merged.get(selector);
    if (entry && String(entry.value).trim() === "redis") {
      merged.set(selector, { value: "redis-cluster", label: `${entry.label} + ${cluster.label}` });
      switched = true;
    }
  }
  if (!switched) {
    warnings.push(`${cluster.label} not acted on: no driver is redis (set ADAPTER_DRIVER=redis-cluster with REDIS_CLUSTER_NODES)`);
    return;
  }
  const url = merged.get("redisUrl");
  if (!merged.has("redisClusterNodes") && url) {
    const hostPort = /^[a-z]+:\/\/(?:[^@/]*@)?([^/?]+)/i.exec(String(url.value))?.[1];
    if (hostPort) merged.set("redisClusterNodes", { value: hostPort.includes(":") ? hostPort : `${hostPort}:6379`, label: `${url.label} + ${cluster.label}` });
  }
}
