// Presence member transitions carry an identity and an order: each member_added / member_removed
// decided by the adapter gets a sequence number from the channel's store, and a member snapshot
// says up to which sequence it reflects. With asynchronous adapters a member event can reach a
// node after a later snapshot was read (the transition and its publish are separate steps) or
// after a newer event of the same user (two nodes' publishes cross); comparing sequences, not
// frame text or arrival order, is what tells a socket each member exactly once.

/** One member transition of a presence channel, carried beside its frame. */
export interface MemberChange {
  userId: string;
  added: boolean;
  /** Increases with every member transition of the channel, across the cluster (0: unknown, unordered). */
  seq: number;
}

/** The members of a presence channel (user id → user_info, join order) as of sequence `seq`. */
export interface MemberSnapshot {
  members: Map<string, unknown>;
  seq: number;
}

/**
 * The next sequence of a channel: microseconds of the store's clock, or one more than the last
 * when the clock has not moved on. Clock-based, so a channel whose store entry was deleted (it
 * emptied, or the store lost its data) still continues above every sequence handed out before.
 */
export function nextMemberSeq(previous: number | undefined, nowMs: number): number {
  return Math.max((previous ?? 0) + 1, Math.floor(nowMs * 1000));
}

/** What one socket was told about a presence channel's members. */
export class MemberView {
  constructor(
    /** The sequence its snapshot reflects. */
    readonly seq: number,
    private readonly known: Set<string>,
  ) {}

  static of(snapshot: MemberSnapshot): MemberView {
    return new MemberView(snapshot.seq, new Set(snapshot.members.keys()));
  }

  /** True when the socket must be sent this change; records it. */
  admit(change: MemberChange): boolean {
    if (change.seq > 0 && change.seq <= this.seq) return false; // its snapshot reflects it already
    if (change.added) {
      if (this.known.has(change.userId)) return false;
      this.known.add(change.userId);
      return true;
    }
    return this.known.delete(change.userId);
  }

  has(userId: string): boolean {
    return this.known.has(userId);
  }

  ids(): IterableIterator<string> {
    return this.known.keys();
  }
}

/**
 * Entries recorded longer ago than this are pruned once a channel's log grows: no publish arrives
 * that late. Measured on this node's clock, not in sequences: a store's sequences need not be
 * clock-based (NATS uses KV revisions), and a horizon in sequence units would then never pass.
 */
const LOG_HORIZON_MS = 120_000;
const LOG_PRUNE_AT = 1024;

interface Seen {
  seq: number;
  /** When this node recorded it (its clock, ms). */
  at: number;
}

interface ChannelLog {
  users: Map<string, Seen>;
  /** The last prune: a log of many recent users is not walked again on every change. */
  prunedAt: number;
}

/**
 * Per node and channel: the newest transition seen for each user. A change older than one
 * already applied for the same user is stale (its effect was superseded) and is dropped.
 */
export class MemberLog {
  private readonly channels = new Map<string, ChannelLog>();

  /** Per channel: every change up to this sequence is reflected already (a catch-up's snapshot). */
  private readonly floors = new Map<string, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** True when `change` is newer than anything seen for its user; records it. */
  fresh(key: string, change: MemberChange): boolean {
    if (change.seq <= 0) return true;
    if (change.seq <= (this.floors.get(key) ?? 0)) return false;
    return this.advance(key, change.userId, change.seq);
  }

  /**
   * Every local subscriber of the channel now reflects the snapshot of `seq`: a change up to it
   * that arrives later (published before the snapshot was read) is stale for every user.
   */
  settle(key: string, seq: number): void {
    if (seq > (this.floors.get(key) ?? 0)) this.floors.set(key, seq);
  }

  /** Records that the node's sockets reflect `userId` as of `seq`; false when it knew newer. */
  advance(key: string, userId: string, seq: number): boolean {
    let log = this.channels.get(key);
    const now = this.now();
    if (!log) this.channels.set(key, (log = { users: new Map(), prunedAt: now }));
    const last = log.users.get(userId);
    if (last !== undefined && last.seq >= seq) return false;
    log.users.set(userId, { seq, at: now });
    if (log.users.size > LOG_PRUNE_AT && now - log.prunedAt >= LOG_HORIZON_MS / 4) {
      log.prunedAt = now;
      for (const [id, seen] of log.users) if (seen.at < now - LOG_HORIZON_MS) log.users.delete(id);
    }
    return true;
  }

  /** The newest sequence seen for the user, if any. */
  last(key: string, userId: string): number | undefined {
    return this.channels.get(key)?.users.get(userId)?.seq;
  }

  /** The channel has no local subscribers left. */
  drop(key: string): void {
    this.channels.delete(key);
    this.floors.delete(key);
  }

  /** Users recorded for the channel (for tests and debugging). */
  size(key: string): number {
    return this.channels.get(key)?.users.size ?? 0;
  }
}
