import { ClusterUnavailableError } from "../core/adapter.ts";
import type { ServerEvent } from "../core/events.ts";
import type { Switchboard } from "../core/server.ts";
import { randomHex } from "../core/crypto.ts";
import { CONSOLE_KINDS, forForwarding, summarize, Viewer } from "./feed.ts";
import { CONSOLE_TOPIC, consoleFeature, consoleMessage, type ConsoleMessage } from "./messages.ts";
import type { Revocations } from "./revocations.ts";
import type { ConsoleStats } from "./stats.ts";

// Feeds the console browsers on this node, for the whole cluster. Each node's event stream only
// sees its own sockets, so a node with a browser watching app A says so on the cluster bus every
// WATCH_EVERY_MS ("watch", on the bus every node hears); every node then answers with its
// connection count of A ("count") and, for WATCH_TTL_MS, forwards its events of A in batches
// ("events"), both on A's own bus, which this node holds while a browser here watches A, at most `eventsPerSecond` a
// second (the rest is counted and reported as dropped). Nothing crosses the bus for an app nobody
// watches, and this node listens to the event stream only while a console is watching somewhere,
// so producers skip building events no one reads (EventStream.wants).

const TICK_MS = 1000;
const WATCH_EVERY_MS = 2000;
/** How long a node forwards after the last "watch": a few missed heartbeats do not stop the feed. */
const WATCH_TTL_MS = 6000;
/** A node's count older than this is left out of the total (the node stopped or lost the bus). */
const COUNT_TTL_MS = 5000;
const FLUSH_MS = 100;
/** Events in one bus message at most. */
const BATCH_MAX = 200;
/** Channels listed at most; the state says how many there are in all. */
const MAX_CHANNELS = 500;

export interface ChannelRow {
  name: string;
  subscriptionCount: number;
  userCount: number;
}

export interface ConsoleState {
  connections: number;
  /** Nodes whose connections are counted (this one included). */
  nodes: number;
  channels: ChannelRow[];
  totalChannels: number;
}

interface Outbox {
  events: ServerEvent[];
  dropped: number;
  windowStart: number;
  inWindow: number;
}

export interface HubOptions {
  bufferEvents: number;
  eventsPerSecond: number;
}

export class ConsoleHub {
  /** Short id of this node in the console's rows and bus messages. */
  readonly node = randomHex(3);
  private readonly viewers = new Map<string, Set<Viewer>>();
  /** Apps a console on another node watches → until when this node forwards them. */
  private readonly watchedElsewhere = new Map<string, number>();
  /** appId → node → its last count. */
  private readonly counts = new Map<string, Map<string, { connections: number; at: number }>>();
  private readonly outbox = new Map<string, Outbox>();
  private readonly refreshing = new Set<string>();
  /** The last state sent per app (as JSON): an unchanged state is not sent again. */
  private readonly lastState = new Map<string, { json: string; state: ConsoleState }>();
  private unsubscribe: (() => void) | undefined;
  private readonly unlistenBus: () => void;
  private ticker: unknown;
  private flushTimer: unknown;
  private lastWatch = 0;
  /**
   * Apps whose bus this node holds for its browsers: "count" and "events" travel on the app's bus,
   * which a node hears only while something holds it. True once held; false while refused (retried each tick).
   */
  private readonly listens = new Map<string, Promise<boolean>>();

  constructor(
    private readonly server: Switchboard,
    private readonly options: HubOptions,
    private readonly stats: ConsoleStats,
    private readonly revocations: Revocations,
  ) {
    this.unlistenBus = server.listenFeature(CONSOLE_TOPIC, (message) => {
      const m = consoleMessage(message);
      if (m) this.receive(m);
      else server.logger.debug(`console: dropped a console message of an unknown shape from the bus`, message.body);
    });
  }

  /** A browser starts watching `appId`; returns its viewer (close it with `leave`). */
  join(appId: string): Viewer {
    const viewer = new Viewer(appId, this.options.bufferEvents, (n) => (this.stats.eventsDropped += n));
    let set = this.viewers.get(appId);
    if (!set) this.viewers.set(appId, (set = new Set()));
    set.add(viewer);
    this.stats.viewers++;
    const last = this.lastState.get(appId);
    if (last) viewer.setState(last.state);
    this.activate();
    this.listen(appId);
    // At once rather than at the next heartbeat: other nodes' counts and events start flowing now.
    this.sendWatch(appId);
    void this.refresh(appId);
    this.server.logger.debug(`console: a browser watches app ${appId} on node ${this.node} (${set.size} here)`);
    return viewer;
  }

  leave(viewer: Viewer): void {
    viewer.close();
    const set = this.viewers.get(viewer.appId);
    if (!set?.delete(viewer)) return;
    this.stats.viewers--;
    if (set.size === 0) {
      this.viewers.delete(viewer.appId);
      this.unlisten(viewer.appId);
      this.counts.delete(viewer.appId);
      this.lastState.delete(viewer.appId);
    }
    this.server.logger.debug(`console: a browser stopped watching app ${viewer.appId} (${set.size} left here)`);
  }

  stop(): void {
    for (const [appId, set] of this.viewers) {
      for (const v of set) v.close();
      this.unlisten(appId);
    }
    this.viewers.clear();
    this.watchedElsewhere.clear();
    this.deactivate();
    this.unlistenBus();
  }

  private activate(): void {
    if (this.unsubscribe) return;
    this.unsubscribe = this.server.events.subscribe("console", (e) => this.onEvent(e), CONSOLE_KINDS);
    this.ticker = this.server.timers.setInterval(() => this.tick(), TICK_MS);
  }

  private deactivate(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.ticker !== undefined) this.server.timers.clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private onEvent(e: ServerEvent): void {
    const here = this.viewers.get(e.appId);
    if (here) {
      const row = summarize(e, this.node);
      if (row) for (const v of here) v.push(row);
    }
    const until = this.watchedElsewhere.get(e.appId);
    if (until !== undefined && until > this.server.timers.now()) this.forward(e);
  }

  /** Queues an event for the consoles on other nodes, within the per-second budget. */
  private forward(e: ServerEvent): void {
    const now = this.server.timers.now();
    let box = this.outbox.get(e.appId);
    if (!box) this.outbox.set(e.appId, (box = { events: [], dropped: 0, windowStart: now, inWindow: 0 }));
    if (now - box.windowStart >= 1000) {
      box.windowStart = now;
      box.inWindow = 0;
    }
    if (box.inWindow >= this.options.eventsPerSecond) {
      box.dropped++;
      this.stats.forwardsDropped++;
    } else {
      box.inWindow++;
      box.events.push(forForwarding(e));
    }
    if (this.flushTimer === undefined) this.flushTimer = this.server.timers.setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    for (const [appId, box] of this.outbox) {
      while (box.events.length > 0 || box.dropped > 0) {
        const events = box.events.splice(0, BATCH_MAX);
        this.broadcast({ appId, node: this.node, op: "events", events, dropped: box.dropped });
        this.stats.eventsForwarded += events.length;
        box.dropped = 0;
      }
      if (box.inWindow === 0 || this.server.timers.now() - box.windowStart >= 1000) this.outbox.delete(appId);
    }
  }

  private receive(m: ConsoleMessage): void {
    if (m.node === this.node) return; // the local adapter echoes our own messages
    const now = this.server.timers.now();
    if (m.op === "revoke") {
      if (typeof m.session === "string" && typeof m.until === "number") this.revocations.revoke(m.session, m.until);
      return;
    }
    if (m.op === "watch") {
      const fresh = !(this.watchedElsewhere.get(m.appId)! > now);
      this.watchedElsewhere.set(m.appId, now + WATCH_TTL_MS);
      if (fresh) this.server.logger.debug(`console: node ${m.node} watches app ${m.appId}; forwarding its events from node ${this.node}`);
      this.activate();
      this.broadcast({ appId: m.appId, node: this.node, op: "count", connections: this.server.registry.appSocketCount(m.appId) });
      return;
    }
    const here = this.viewers.get(m.appId);
    if (!here) return;
    if (m.op === "count" && typeof m.connections === "number") {
      let counts = this.counts.get(m.appId);
      if (!counts) this.counts.set(m.appId, (counts = new Map()));
      counts.set(m.node, { connections: m.connections, at: now });
    } else if (m.op === "events") {
      for (const e of m.events ?? []) {
        const row = summarize(e, m.node);
        if (row) for (const v of here) v.push(row);
      }
      if (m.dropped) for (const v of here) v.noteClusterDrop(m.dropped);
    }
  }

  private tick(): void {
    const now = this.server.timers.now();
    for (const [appId, until] of this.watchedElsewhere) if (until <= now) this.watchedElsewhere.delete(appId);
    if (now - this.lastWatch >= WATCH_EVERY_MS) {
      this.lastWatch = now;
      for (const appId of this.viewers.keys()) this.sendWatch(appId);
    }
    for (const appId of this.viewers.keys()) {
      this.listen(appId);
      void this.refresh(appId);
    }
    if (this.viewers.size === 0 && this.watchedElsewhere.size === 0) this.deactivate();
  }

  /** Holds the app's bus for this node's browsers (once per app; again after a refusal). */
  private listen(appId: string): void {
    const adapter = this.server.adapter;
    if (!adapter.listen || this.listens.has(appId)) return;
    const held: Promise<boolean> = adapter.listen(appId).then(() => {
      // Answers to the first "watch" may have gone out before the subscription: ask again.
      if (this.listens.get(appId) === held) this.sendWatch(appId);
      return true;
    }, (error: unknown) => {
      this.server.logger.debug(`console: the bus of app ${appId} is unavailable; other nodes' counts and events wait for it`, error);
      if (this.listens.get(appId) === held) this.listens.delete(appId);
      return false;
    });
    this.listens.set(appId, held);
  }

  private unlisten(appId: string): void {
    const held = this.listens.get(appId);
    if (!held) return;
    this.listens.delete(appId);
    void held.then((ok) => ok && this.server.adapter.unlisten?.(appId));
  }

  private sendWatch(appId: string): void {
    this.broadcast({ appId, node: this.node, op: "watch" });
  }

  /** A console session signed out on this node: every other node refuses it too. */
  revoke(session: string, until: number): void {
    this.revocations.revoke(session, until);
    this.broadcast({ appId: "", node: this.node, op: "revoke", session, until });
  }

  private broadcast(message: ConsoleMessage): void {
    this.server.adapter.broadcast(consoleFeature(message), { remoteOnly: true });
  }

  /** Sends the app's connection count and channels to its viewers; one query in flight per app. */
  private async refresh(appId: string): Promise<void> {
    if (this.refreshing.has(appId)) return;
    this.refreshing.add(appId);
    try {
      const state = await this.state(appId);
      const json = JSON.stringify(state);
      if (this.lastState.get(appId)?.json === json || !this.viewers.has(appId)) return;
      this.lastState.set(appId, { json, state });
      for (const v of this.viewers.get(appId) ?? []) v.setState(state);
    } catch (error) {
      // Once a second while the cluster backend is away: the adapter already warned about it.
      const log = error instanceof ClusterUnavailableError ? this.server.logger.debug : this.server.logger.warn;
      log.call(this.server.logger, `console: reading the channels of app ${appId} failed`, error);
    } finally {
      this.refreshing.delete(appId);
    }
  }

  private async state(appId: string): Promise<ConsoleState> {
    const now = this.server.timers.now();
    let connections = this.server.registry.appSocketCount(appId);
    let nodes = 1;
    for (const [node, c] of this.counts.get(appId) ?? []) {
      if (now - c.at > COUNT_TTL_MS) this.counts.get(appId)?.delete(node);
      else {
        connections += c.connections;
        nodes++;
      }
    }
    // Once a second per watched app: only the rows shown are counted, however many channels the app has.
    const page = await this.server.adapter.channelPage(appId, MAX_CHANNELS);
    const rows: ChannelRow[] = [];
    for (const [name, stats] of page.channels) rows.push({ name, subscriptionCount: stats.subscriptionCount, userCount: stats.userCount });
    return { connections, nodes, channels: rows, totalChannels: Math.max(page.total, rows.length) };
  }
}
