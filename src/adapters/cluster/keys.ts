// The key names of scripts.ts's layout, built here so every script gets each key it touches in
// KEYS. An app's keys share the hash tag {appId} (one cluster slot per app), the node registry's
// share {nodes}.

export interface AppKeys {
  conns: string;
  chans: string;
  /** The set of everything `nodeId` recorded in the app. */
  node(nodeId: string): string;
  /** The channel's eight keys in the scripts' order: s, m, i, o, v, x, chans, cm. */
  channel(channel: string): string[];
  user(userId: string): string;
  cache(channel: string): string;
  cacheMissed(channel: string): string;
  rate(bucket: string): string;
  publish(key: string): string;
  /** The keys a recorded item ("c|sock", "s|sock|channel", "u|sock|user") touches when released. */
  item(item: string): string[];
}

export function appKeys(prefix: string, appId: string): AppKeys {
  const b = `${prefix}{${appId}}:`;
  const keys: AppKeys = {
    conns: `${b}conns`,
    chans: `${b}cidx`,
    node: (nodeId) => `${b}n:${nodeId}`,
    channel: (ch) => [`${b}s:${ch}`, `${b}m:${ch}`, `${b}i:${ch}`, `${b}o:${ch}`, `${b}v:${ch}`, `${b}x:${ch}`, `${b}cidx`, `${b}cm:${ch}`],
    user: (userId) => `${b}u:${userId}`,
    cache: (ch) => `${b}c:${ch}`,
    cacheMissed: (ch) => `${b}cm:${ch}`,
    rate: (bucket) => `${b}rl:${bucket}`,
    publish: (key) => `${b}p:${key}`,
    item: (item) => {
      const { kind, rest } = parseItem(item);
      if (kind === "c") return [keys.conns];
      if (kind === "s") return keys.channel(rest);
      return [keys.user(rest)];
    },
  };
  return keys;
}

export interface NodeKeys {
  nodes: string;
  apps(nodeId: string): string;
  swept(nodeId: string): string;
  epoch: string;
}

export function nodeKeys(prefix: string): NodeKeys {
  const g = `${prefix}{nodes}:`;
  return { nodes: `${g}nodes`, apps: (id) => `${g}na:${id}`, swept: (id) => `${g}swept:${id}`, epoch: `${g}epoch` };
}

/** Splits a recorded item ("c|sock", "s|sock|channel", "u|sock|user") into kind, socket and rest. */
export function parseItem(item: string): { kind: string; socketId: string; rest: string } {
  const tail = item.slice(2);
  const bar = tail.indexOf("|");
  return { kind: item[0] ?? "", socketId: bar < 0 ? tail : tail.slice(0, bar), rest: bar < 0 ? "" : tail.slice(bar + 1) };
}
