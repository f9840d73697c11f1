import type { Timers } from "../core/runtime.ts";
import type { WebhookEvent } from "./payload.ts";

// The vacancy delay (spec §7.3, Pusher waits ~3 s): channel_vacated and member_removed are held,
// and when the channel is occupied again (the member re-added) within the delay both the removal
// and the re-add are dropped, so a page reload sends nothing. Pairs are matched on this node: in
// a cluster a client that comes back through another node gets both webhooks.

/** `app` is carried through untouched; only its id is used to pair events. */
type Release<A> = (app: A, event: WebhookEvent) => void;

const HELD = { channel_vacated: "channel_occupied", member_removed: "member_added" } as const;
const CANCELS: Record<string, keyof typeof HELD> = { channel_occupied: "channel_vacated", member_added: "member_removed" };

export class VacancyDelay<A extends { id: string }> {
  /** Held removals in arrival order, so a shutdown releases them in the order they happened. */
  private readonly held = new Map<string, { app: A; event: WebhookEvent; timer: unknown }>();

  constructor(private readonly timers: Timers, private readonly delayMs: number, private readonly release: Release<A>) {}

  offer(app: A, event: WebhookEvent): void {
    const appId = app.id;
    if (this.delayMs <= 0) return this.release(app, event);
    if (event.name in HELD) {
      const key = keyOf(appId, event.name, event);
      this.releaseKey(key); // an older identical removal (never expected) goes first
      const timer = this.timers.setTimeout(() => this.releaseKey(key), this.delayMs);
      this.held.set(key, { app, event, timer });
      return;
    }
    const cancels = CANCELS[event.name];
    if (cancels) {
      const key = keyOf(appId, cancels, event);
      const entry = this.held.get(key);
      if (entry) {
        this.timers.clearTimeout(entry.timer);
        this.held.delete(key);
        return; // the removal and this re-add are both dropped
      }
    }
    this.release(app, event);
  }

  private releaseKey(key: string): void {
    const entry = this.held.get(key);
    if (!entry) return;
    this.held.delete(key);
    this.timers.clearTimeout(entry.timer);
    this.release(entry.app, entry.event);
  }

  /** Releases everything held now (shutdown). */
  flushAll(): void {
    for (const key of [...this.held.keys()]) this.releaseKey(key);
  }
}

function keyOf(appId: string, name: string, event: WebhookEvent): string {
  return `${appId}\n${name}\n${event.channel}\n${event.user_id ?? ""}`;
}
