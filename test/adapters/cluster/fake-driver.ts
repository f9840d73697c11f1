// A cluster driver with a fake transport, and a node that records what the lifecycle tells it:
// the lifecycle tests (lifecycle.test.ts, app-bus.test.ts) drive it with a manual clock.
import { expect } from "vitest";
import { RECONNECT_GRACE_MS } from "../../../src/adapters/cluster/bus-peers.ts";
import { ClusterLifecycle } from "../../../src/adapters/cluster/lifecycle.ts";
import type { ShareStore } from "../../../src/adapters/cluster/state-sync.ts";
import type { IdempotencyBackend, StoreReads, TransportEvents } from "../../../src/adapters/cluster/transport.ts";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import type { ClusterMessage, ClusterNode, ClusterTransition } from "../../../src/core/adapter.ts";
import type { MemberSnapshot } from "../../../src/core/presence.ts";
import type { Logger } from "../../../src/core/runtime.ts";
import { ManualTimers } from "../../helpers/harness.ts";

export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
}

export class FakeDriver extends ClusterLifecycle {
  events?: TransportEvents;
  published: string[] = [];
  /** Where each published payload went: an app's bus, or "(node)" for the node bus. */
  routes: string[] = [];
  /** The apps whose bus the backend has us subscribed to. */
  subscribed = new Set<string>();
  subscribeCalls: string[][] = [];
  unsubscribeCalls: string[][] = [];
  subscribeFails = false;
  subscribeHangs = false;
  publishFails = false;
  /** A publish the bus never answers (a hung backend). */
  publishHangs = false;
  reconciles = 0;
  lostData = false;
  /** The transport goes down while the next resync writes the app's state. */
  goesDownInResync = false;
  /** The transport goes down during the next members read. */
  goesDownInRead = false;
  /** What each resync's write of the app changes in the store. */
  resyncWrites: ClusterTransition[] = [];
  released = 0;
  releaseFails = false;
  closed = false;
  storeDown = false;
  stalls = 0;
  protected readonly reads: StoreReads = {
    channelStats: async () => this.remote({ subscriptionCount: 7, userCount: 0 }),
    channels: async () => this.remote(new Map()),
    channelPage: async () => this.remote({ channels: new Map(), total: 0 }),
    members: async (): Promise<MemberSnapshot> => {
      if (this.goesDownInRead) this.events?.down("lost during a read");
      this.goesDownInRead = false;
      return this.remote({ members: new Map([["u-remote", null]]), seq: 5 });
    },
    onlineUsers: async () => this.remote(new Set(["remote"])),
    cacheGet: async () => this.remote(null),
  };
  private readonly keys = new LocalAdapter();
  protected readonly idempotency: IdempotencyBackend = {
    claim: async (appId, key, pendingMs) => this.remote(await this.keys.claimIdempotency(appId, key, pendingMs)),
    settle: async (appId, key, delivered, windowMs) => this.remote(await this.keys.settleIdempotency(appId, key, delivered, windowMs)),
  };

  protected open(events: TransportEvents): void {
    this.events = events;
  }
  protected async publish(appId: string | undefined, payload: string): Promise<void> {
    if (this.publishFails) throw new Error("bus refused");
    if (this.publishHangs) return new Promise(() => {});
    this.published.push(payload);
    this.routes.push(appId ?? "(node)");
  }
  protected async subscribeApps(appIds: string[]): Promise<void> {
    this.subscribeCalls.push(appIds);
    if (this.subscribeFails) throw new Error("subscribe refused");
    if (this.subscribeHangs) return new Promise(() => {});
    for (const appId of appIds) this.subscribed.add(appId);
  }
  protected async unsubscribeApps(appIds: string[]): Promise<void> {
    this.unsubscribeCalls.push(appIds);
    for (const appId of appIds) this.subscribed.delete(appId);
  }
  protected async close(): Promise<void> {
    this.closed = true;
  }
  private epochs = 0;
  /** No state of its own: each resync counts, and `lostData` makes the backend show a new data epoch. */
  protected readonly shares: ShareStore = {
    epoch: async () => {
      this.reconciles++;
      return String(this.lostData ? ++this.epochs : this.epochs);
    },
    apps: async () => ["app"],
    sync: async () => {
      if (this.goesDownInResync) this.events?.down("lost during the resync");
      return this.resyncWrites;
    },
  };
  protected async maintain(): Promise<void> {}
  protected stalled(): void {
    this.stalls++;
  }
  sweptByNodes: string[] = [];
  protected sweptBy(node: string): void {
    this.sweptByNodes.push(node);
  }
  protected async release(): Promise<void> {
    this.released++;
    if (this.releaseFails) throw new Error("release script failed");
  }
  /** A leave the driver decided while away, as its leave() does. */
  leaveWhileAway(channel: string, vacated: boolean, userId?: string) {
    return this.state.leftAwayFrom("app", channel, { vacated, memberRemoved: userId !== undefined, subscriptionCount: 0, seq: 7 }, userId);
  }
  /** Lets a test add local state the way a driver's state changes do. */
  get localState() {
    return this.local;
  }
  private remote<T>(value: T): T {
    if (this.storeDown) throw new Error("store timed out");
    return value;
  }
}

export function setup() {
  const timers = new ManualTimers();
  const logger = recordingLogger();
  const driver = new FakeDriver("fake", {
    prefix: "p:", nodeTimeoutMs: 2000, timers, logger, connectTimeoutMs: 1000, requestTimeoutMs: 500, busLingerMs: LINGER,
  });
  const received: ClusterMessage[] = [];
  const states: [boolean, string | undefined][] = [];
  const synced: [string, MemberSnapshot, boolean][] = [];
  const transitions: ClusterTransition[] = [];
  const node: ClusterNode = {
    transition: (_appId, t) => void transitions.push(t),
    receive: (m) => void received.push(m),
    backendState: (driverName, up, detail) => {
      expect(driverName).toBe("fake");
      states.push([up, detail]);
    },
    syncMembers: (_appId, channel, snapshot, removals) => void synced.push([channel, snapshot, removals]),
  };
  return { timers, logger, driver, node, received, states, synced, transitions };
}

/**
 * setup(), started and online, with one local socket in a presence channel, past the reconnect
 * grace (BusPeers: no peer is taken for silent before then).
 */
export async function upWithPresence() {
  const h = setup();
  const started = h.driver.start(h.node);
  h.driver.events!.up();
  await started;
  await h.driver.localState.join("app", "presence-room", "s1", { userId: "u1", userInfo: null });
  await h.timers.advance(RECONNECT_GRACE_MS);
  return h;
}

export const message: ClusterMessage = { type: "terminate", appId: "app", userId: "u1" };
export const LINGER = 3000;

