// The order in which one socket's inbound frames are handled. Frames run strictly in order, except
// that subscribes to different channels may overlap their adapter round trips: with Redis or NATS a
// pusher-js client resubscribing a thousand channels after a reconnect would otherwise wait a
// thousand round trips. Anything else waits until the subscribes before it are done, and the
// subscribes answer in the order they arrived (takeTurn), so a client sees no difference.
export type Task = () => void | Promise<void>;

interface Pending {
  task: Task;
  bytes: number;
  /** Tasks with a key may overlap other keyed tasks, never one with the same key. */
  key?: string;
}

/** Keyed tasks of one socket in flight at once: bounds what one client makes the adapter do. */
const MAX_OVERLAP = 16;

const NONE: readonly Pending[] = [];

/** A base class rather than a member, so a socket's queue costs no object of its own (idle RSS). */
export abstract class TaskQueue {
  /** An unkeyed task is running. */
  private busy = false;
  private keys?: Set<string>;
  /** Waiting tasks from `head` on; allocated the first time one has to wait. */
  private waiting: Pending[] = NONE as Pending[];
  private head = 0;
  private waitingBytes = 0;
  private onIdle?: () => void;
  private lastTurn?: Promise<void>;

  constructor(
    /** Bytes of frames that may wait; past it `overflow` is called and the frame dropped. */
    private readonly maxWaitingBytes: number,
  ) {}

  /** Too much waits: the client sends faster than it can be served. */
  protected abstract overflow(): void;
  protected abstract taskFailed(error: unknown): void;

  get idle(): boolean {
    return !this.busy && !this.keys?.size;
  }

  /** Runs `task` now if it may, else queues it; `bytes` is what the frame costs to keep. */
  enqueue(task: Task, bytes = 0, key?: string): void {
    if (this.head === this.waiting.length && this.mayStart(key)) {
      this.start(task, key);
      return;
    }
    if (this.waitingBytes + bytes > this.maxWaitingBytes) {
      this.overflow();
      return;
    }
    if (this.waiting === NONE) this.waiting = [];
    this.waiting.push({ task, bytes, key });
    this.waitingBytes += bytes;
  }

  /**
   * A place in the order of answers, taken when a keyed task starts (so in arrival order): wait for
   * `ready` before answering, call `done` after (also on failure).
   */
  takeTurn(): { ready: Promise<void>; done: () => void } {
    const previous = this.lastTurn ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.lastTurn = mine;
    return {
      ready: previous,
      done: () => {
        done();
        if (this.lastTurn === mine) this.lastTurn = undefined;
      },
    };
  }

  /** Drops what waits and calls `fn` once nothing runs (cleanup after a close). */
  whenIdle(fn: () => void): void {
    this.waiting = NONE as Pending[];
    this.head = 0;
    this.waitingBytes = 0;
    if (this.idle) fn();
    else this.onIdle = fn;
  }

  private mayStart(key: string | undefined): boolean {
    if (this.busy) return false;
    if (key === undefined) return !this.keys?.size;
    return !this.keys?.has(key) && (this.keys?.size ?? 0) < MAX_OVERLAP;
  }

  private start(task: Task, key: string | undefined): void {
    let result: void | Promise<void>;
    try {
      result = task();
    } catch (error) {
      this.taskFailed(error);
      return;
    }
    if (!result || typeof (result as Promise<void>).then !== "function") return;
    if (key === undefined) this.busy = true;
    else (this.keys ??= new Set()).add(key);
    (result as Promise<void>).then(
      () => this.finished(key),
      (error: unknown) => {
        this.taskFailed(error);
        this.finished(key);
      },
    );
  }

  private finished(key: string | undefined): void {
    if (key === undefined) this.busy = false;
    else this.keys!.delete(key);
    while (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      if (!this.mayStart(next.key)) break;
      this.head++;
      this.waitingBytes -= next.bytes;
      this.start(next.task, next.key);
    }
    if (this.head === this.waiting.length && this.head > 0) {
      this.waiting = NONE as Pending[];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      // Drop what was taken, so a long burst does not keep every handled frame alive.
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    if (this.idle && this.onIdle) {
      const fn = this.onIdle;
      this.onIdle = undefined;
      fn();
    }
  }
}
