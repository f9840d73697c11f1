// How the Redis family records a node's share of the cluster state, for the shared reconcile
// path (state-sync.ts): each node lists what it added ("items": "c|sock", "s|sock|channel" →
// member, "u|sock|user") under its own key, and the scripts (scripts.ts) undo or redo an item
// atomically with the cluster-wide transition it makes. This node's items are also kept here, so
// a resync compares the two and fixes the difference.
import type { ClusterTransition, Member } from "../../core/adapter.ts";
import type { ClusterBackend } from "./backend.ts";
import { appKeys, nodeKeys, parseItem, type AppKeys, type NodeKeys } from "./keys.ts";
import { PAGE } from "./reads.ts";
import * as reply from "./replies.ts";
import type { ScriptName } from "./scripts.ts";
import type { ShareStore, StoreTransition } from "./state-sync.ts";

export class RedisShares implements ShareStore {
  /**
   * Everything this node recorded, per app. It is changed synchronously before the matching
   * command is sent, so a resync that checks it right before each command never races a live op
   * (one connection keeps command order).
   */
  private readonly mine = new Map<string, Map<string, Member | undefined>>();
  private readonly registeredApps = new Set<string>();
  readonly nodes: NodeKeys;

  constructor(private readonly backend: ClusterBackend, private readonly prefix: string, private readonly nodeId: string) {
    this.nodes = nodeKeys(prefix);
  }

  keys(appId: string): AppKeys {
    return appKeys(this.prefix, appId);
  }

  runApp(script: ScriptName, appId: string, keys: (k: AppKeys) => string[], args: (string | number)[]): Promise<unknown> {
    return this.backend.run(script, keys(this.keys(appId)), args);
  }

  runJoin(appId: string, channel: string, socketId: string, member: Member | undefined, maxMembers: number, restore = false): Promise<unknown> {
    return this.runApp("join", appId, (k) => [k.node(this.nodeId), ...k.channel(channel)], [
      socketId, channel, member ? "1" : "0", member?.userId ?? "", JSON.stringify(member?.userInfo ?? null), maxMembers,
      restore ? "1" : "0",
    ]);
  }

  record(appId: string, item: string, member?: Member): void {
    let items = this.mine.get(appId);
    if (!items) this.mine.set(appId, (items = new Map()));
    items.set(item, member);
  }

  forget(appId: string, item: string): void {
    const items = this.mine.get(appId);
    if (items?.delete(item) && items.size === 0) this.mine.delete(appId);
  }

  registered(appId: string): boolean {
    return this.registeredApps.has(appId);
  }

  /** The app must be listed under this node before any of its state is, or a sweeper could miss it. */
  async register(appId: string): Promise<void> {
    await this.backend.run("addNodeApp", [this.nodes.apps(this.nodeId)], [appId]);
    this.registeredApps.add(appId);
  }

  /** True when flagged: Redis lost our registration, or another node swept our state. */
  async heartbeat(): Promise<boolean> {
    return reply.flag("heartbeat", await this.backend.run("heartbeat", [this.nodes.nodes, this.nodes.swept(this.nodeId)], [this.nodeId]));
  }

  async deadNodes(timeoutMs: number): Promise<string[]> {
    return reply.strings("deadNodes", await this.backend.run("deadNodes", [this.nodes.nodes], [timeoutMs]));
  }

  /** Drops a node from the registry (timeout -1: this node, leaving); true when this call did it. */
  async forgetNode(nodeId: string, timeoutMs: number): Promise<boolean> {
    const n = this.nodes;
    return reply.flag("forgetNode", await this.backend.run("forgetNode", [n.nodes, n.apps(nodeId), n.swept(nodeId), n.epoch], [nodeId, timeoutMs]));
  }

  // --- ShareStore ---

  async epoch(): Promise<string> {
    await this.heartbeat();
    return reply.string("epoch", await this.backend.run("epoch", [this.nodes.epoch], [globalThis.crypto.randomUUID()]));
  }

  async apps(node: string): Promise<Iterable<string>> {
    const listed = reply.strings("nodeApps", await this.backend.run("nodeApps", [this.nodes.apps(node)], []));
    if (node !== this.nodeId) return listed;
    this.registeredApps.clear(); // the backend may have lost the list: each app registers again
    return new Set([...this.mine.keys(), ...listed]);
  }

  async sync(appId: string, node: string): Promise<StoreTransition[]> {
    if (node !== this.nodeId) return this.releaseAll(appId, node);
    await this.register(appId);
    const recorded = await this.recordedItems(appId, node);
    const mine = this.mine.get(appId);
    const stale = [...recorded].filter((item) => !mine?.has(item));
    const transitions: StoreTransition[] = stale.length > 0 ? (await this.releaseItems(appId, node, stale, false)).transitions : [];
    // Connections first so quotas see them, then subscriptions and sign-ins.
    for (const kind of ["c", "s", "u"]) {
      for (const item of [...(this.mine.get(appId)?.keys() ?? [])]) {
        if (item[0] !== kind || recorded.has(item)) continue;
        const current = this.mine.get(appId);
        if (!current?.has(item)) continue; // went away meanwhile
        const restored = await this.restore(appId, item, current.get(item));
        if (restored) transitions.push(restored);
      }
    }
    return transitions;
  }

  private async restore(appId: string, item: string, member: Member | undefined): Promise<StoreTransition | undefined> {
    const { kind, socketId, rest } = parseItem(item);
    if (kind === "c") {
      await this.runApp("addConnection", appId, (k) => [k.conns, k.node(this.nodeId)], [this.nodeId, socketId, -1]);
      return undefined;
    }
    if (kind === "s") {
      const joined = reply.joined(await this.runJoin(appId, rest, socketId, member, -1, true));
      return {
        type: "joined", channel: rest, socketId, member, occupied: joined.occupied, memberAdded: joined.memberAdded, seq: joined.seq,
        subscriptionCount: joined.count, countSeq: joined.countSeq, vacatedSince: joined.vacatedSince,
      };
    }
    const online = reply.flag("signIn", await this.runApp("signIn", appId, (k) => [k.user(rest), k.node(this.nodeId)], [socketId, rest]));
    return online ? { type: "online", userId: rest } : undefined;
  }

  /** Every item `nodeId` recorded in the app, a page at a time. */
  private async recordedItems(appId: string, nodeId: string): Promise<Set<string>> {
    const key = this.keys(appId).node(nodeId);
    const items = new Set<string>();
    let cursor = "0";
    do {
      const page = reply.page("itemsPage", await this.backend.run("itemsPage", [key], [cursor, PAGE]));
      for (const item of page.entries) items.add(item);
      cursor = page.cursor;
    } while (cursor !== "0");
    return items;
  }

  /**
   * Undoes `items` of `nodeId` (release script), PAGE items per call. `report`: a closing socket's
   * own items, whose channels answer their counts even when a sweep released them first.
   */
  async releaseItems(appId: string, nodeId: string, items: string[], report: boolean): Promise<{ left: number; transitions: ClusterTransition[] }> {
    const k = this.keys(appId);
    const transitions: ClusterTransition[] = [];
    let left = 0;
    for (let at = 0; at < items.length; at += PAGE) {
      const batch = items.slice(at, at + PAGE);
      const keys = [k.node(nodeId), ...batch.flatMap((item) => k.item(item))];
      const done = reply.released(await this.backend.run("release", keys, [report ? "1" : "0", ...batch]));
      transitions.push(...done.transitions);
      left = done.left;
    }
    return { left, transitions };
  }

  /**
   * Releases everything `nodeId` recorded in the app. The release script undoes only items still
   * recorded, so two nodes sweeping the same dead node see each transition once.
   */
  private async releaseAll(appId: string, nodeId: string): Promise<ClusterTransition[]> {
    const transitions: ClusterTransition[] = [];
    for (;;) {
      const items = [...await this.recordedItems(appId, nodeId)];
      if (items.length === 0) return transitions;
      const done = await this.releaseItems(appId, nodeId, items, false);
      transitions.push(...done.transitions);
      if (done.left === 0) return transitions;
    }
  }
}
