// The nats bucket's data epoch and the base of its member sequences. A member transition's
// sequence is the KV revision of the write that decided it plus the epoch's base, the clock (µs)
// when the epoch was created: revisions restart at 1 in a bucket NATS lost and created again, the
// base jumps to the clock then, so sequences keep rising (core/presence.ts relies on it).
import { UNCHANGED, type NatsLink } from "./connection.ts";
import { EPOCH, type Epoch } from "./values.ts";

export class EpochBase {
  /** The epoch read when the bucket was last bound: every write on that binding counts from its base. */
  epoch?: Epoch;
  /** The highest sequence this node handed out or read: a new epoch's base starts above it. */
  private highest = 0;

  constructor(private readonly link: NatsLink, private readonly now: () => number) {}

  /**
   * Reads the epoch, created by the first node; a new one means NATS lost the bucket. A value of
   * an earlier version (a bare id) is replaced: its revisions were never handed out as sequences.
   */
  async read(): Promise<Epoch> {
    const fresh: Epoch = { id: globalThis.crypto.randomUUID(), base: Math.max(Math.floor(this.now() * 1000), this.highest + 1) };
    this.epoch = await this.link.cas<Epoch | string, Epoch>("epoch", EPOCH, (value) =>
      (typeof value === "object" ? { next: UNCHANGED, result: value } : { next: fresh, result: fresh }));
    return this.epoch;
  }

  /** The sequence of a member transition written at `revision`, or of a snapshot listed after it. */
  seqOf(revision: number): number {
    const seq = (this.epoch?.base ?? 0) + revision;
    if (seq > this.highest) this.highest = seq;
    return seq;
  }
}
