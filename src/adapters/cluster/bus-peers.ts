// Which other nodes are on the bus, as this node hears them: every node says hello on the bus each
// tick and right after it (re)connects, and any payload counts. It answers one question for the
// publish path: after this node lost the bus and is back, are the nodes that were on it before
// back too? Pub/sub has no replay, so a publish made while a peer is still reconnecting never
// reaches that peer's sockets: until every such peer was heard again (or long enough passed that
// it is presumably dead), publishes are refused with 503 rather than answered 2xx.

/**
 * A live peer may come back this long after the backend did: reconnect back-off tops out at 5 s
 * (core/backoff.ts; jittered for NATS), then its handshake and resubscribe. The chaos run found
 * publishes answered 2xx 3 s after a NATS restart (its node timeout) while a peer was still in
 * its back-off, lost for that peer's sockets.
 */
export const RECONNECT_GRACE_MS = 10_000;

export class BusPeers {
  /** Peer → when it was last heard (this node's clock). */
  private readonly heard = new Map<string, number>();
  /** Peers on the bus before this node lost it, not heard since it is back. */
  private readonly awaiting = new Set<string>();
  /** Until when the awaited peers are waited for (Infinity while this node is off the bus). */
  private waitUntil = 0;
  /** No peer is taken for dead before then: after this node's return a live one may still be in its back-off. */
  private graceUntil = 0;

  constructor(private readonly nodeTimeoutMs: number, private readonly now: () => number) {}

  /** True when the node is news: never heard (or forgotten), or awaited since an outage. */
  heardFrom(node: string): boolean {
    const news = !this.heard.has(node) || this.awaiting.has(node);
    this.heard.set(node, this.now());
    this.awaiting.delete(node);
    return news;
  }

  /**
   * The node said goodbye (a graceful stop after announcing everything it decided): forgotten
   * without counting as silent, so nobody catches up on its behalf.
   */
  departed(node: string): void {
    this.heard.delete(node);
    this.awaiting.delete(node);
  }

  /** This node lost the bus: the peers heard within a node timeout are awaited when it is back. */
  lost(): void {
    const since = this.now() - this.nodeTimeoutMs;
    for (const [node, at] of this.heard) if (at >= since) this.awaiting.add(node);
    this.waitUntil = Infinity;
  }

  /**
   * This node is on the bus (`again`: back from an outage): each awaited peer has a node timeout
   * (at least the reconnect grace) to be heard, and after an outage nobody is taken for dead before
   * then (settling()). A chaos run saw a node swept 3 s after a NATS restart (its node timeout)
   * while still in its back-off: its members were announced gone.
   */
  rejoined(again = true): void {
    this.waitUntil = this.now() + Math.max(this.nodeTimeoutMs, RECONNECT_GRACE_MS);
    if (again) this.graceUntil = this.waitUntil;
    this.restart();
  }

  /**
   * Every known peer gets a fresh timeout: nobody could be heard meanwhile (this node was off the
   * bus, or paused with their hellos still unread), so their silence is this node's own.
   */
  restart(): void {
    const now = this.now();
    for (const node of this.heard.keys()) this.heard.set(node, now);
  }

  /** The peers heard within a node timeout (not yet pruned), this node left out. */
  known(): Iterable<string> {
    return this.heard.keys();
  }

  has(node: string): boolean {
    return this.heard.has(node);
  }

  /** The peers a publish now would miss (empty once all are back, or their time is up). */
  missing(): string[] {
    if (this.awaiting.size === 0) return [];
    if (this.now() >= this.waitUntil) {
      this.awaiting.clear();
      return [];
    }
    return [...this.awaiting];
  }

  /** Back from an outage for less than the reconnect grace: no node is to be judged dead yet (no prune, no sweep). */
  settling(): boolean {
    return this.now() < this.graceUntil;
  }

  /** Forgets peers not heard for a node timeout (dead, or gone for good); returns them. */
  prune(): string[] {
    if (this.settling()) return [];
    const since = this.now() - this.nodeTimeoutMs;
    const gone: string[] = [];
    for (const [node, at] of this.heard) {
      if (at >= since) continue;
      this.heard.delete(node);
      gone.push(node);
    }
    return gone;
  }
}
