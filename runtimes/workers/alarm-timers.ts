// The core's Timers on a Durable Object: one storage alarm set for the earliest due timer instead
// of setTimeout/setInterval, which would keep the object awake (no hibernation) and keep a local
// workerd from exiting on SIGTERM (../shared/runtime-notes.md, "workerd"). The callbacks live in
// memory: after an eviction the object rebuilds its core, whose start() sets its intervals again;
// what must survive an eviction (pending webhooks) is persisted by its owner, not here.
import type { Logger, Timers } from "../../src/core/runtime.ts";

interface Pending {
  at: number;
  fn: () => void;
  every?: number;
}

/** The alarm, as much of the object's storage as these timers need. */
export interface AlarmClock {
  setAlarm(at: number): Promise<void>;
  deleteAlarm(): Promise<void>;
}

export class AlarmTimers implements Timers {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The alarm time last asked of storage (undefined: none), so repeats cost no storage write. */
  private alarmAt: number | undefined = undefined;
  private flushQueued = false;

  constructor(
    private readonly clock: AlarmClock,
    private readonly logger: Pick<Logger, "error">,
    readonly now: () => number = Date.now,
  ) {}

  setTimeout(fn: () => void, ms: number): unknown {
    return this.add({ at: this.now() + Math.max(0, ms), fn });
  }

  setInterval(fn: () => void, ms: number): unknown {
    const every = Math.max(1, ms);
    return this.add({ at: this.now() + every, fn, every });
  }

  clearTimeout(handle: unknown): void {
    if (this.pending.delete(handle as number)) this.schedule();
  }

  clearInterval(handle: unknown): void {
    this.clearTimeout(handle);
  }

  /** Timers not fired yet. */
  get size(): number {
    return this.pending.size;
  }

  /** The alarm fired (storage cleared it): runs what is due, then asks for the next alarm. */
  fire(): void {
    this.alarmAt = undefined;
    const now = this.now();
    for (const [id, timer] of [...this.pending]) {
      if (timer.at > now || !this.pending.has(id)) continue;
      if (timer.every) timer.at = Math.max(timer.at + timer.every, now + 1);
      else this.pending.delete(id);
      try {
        timer.fn();
      } catch (error) {
        this.logger.error("a timer's callback failed", error);
      }
    }
    this.schedule();
  }

  private add(timer: Pending): number {
    const id = this.nextId++;
    this.pending.set(id, timer);
    this.schedule();
    return id;
  }

  /** Once per turn: many timers set in one turn cost one storage write. */
  private schedule(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      let next: number | undefined;
      for (const timer of this.pending.values()) if (next === undefined || timer.at < next) next = timer.at;
      if (next === this.alarmAt) return;
      this.alarmAt = next;
      const set = next === undefined ? this.clock.deleteAlarm() : this.clock.setAlarm(next);
      set.catch((error: unknown) => this.logger.error("setting the object's alarm failed", error));
    });
  }
}
