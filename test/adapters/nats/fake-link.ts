// An in-memory stand-in for NatsLink's KV operations (one revision counter for the bucket, delete
// markers, compare-and-set, listings), one store shared by several nodes' links,
// with a gate that holds one node's next write to a key so a test can order two nodes' steps the
// way a race on a real NATS may.
import { UNCHANGED, type Mutation, type NatsLink } from "../../../src/adapters/nats/connection.ts";
import type { Shape } from "../../../src/adapters/nats/values.ts";

interface Stored {
  value: unknown;
  revision: number;
  deleted: boolean;
}

export class FakeStore {
  readonly keys = new Map<string, Stored>();
  revision = 0;

  /** The epoch's base the tests' nodes count member sequences from. */
  constructor(readonly base = 1_000_000) {}

  live(): Record<string, unknown> {
    return Object.fromEntries([...this.keys].filter(([, s]) => !s.deleted).map(([k, s]) => [k, s.value]));
  }
}

type Fn<V, R> = (current: V | undefined, deleted: boolean, revision: number) => Mutation<V, R>;

export class FakeLink {
  private gates: { matches: (k: string) => boolean; reached: () => void; open: Promise<void> }[] = [];

  constructor(readonly store: FakeStore) {}

  /** Holds this link's next compare-and-set of a matching key until released (before it reads). */
  hold(matches: (k: string) => boolean): { reached: Promise<void>; release: () => void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const open = new Promise<void>((r) => (release = r));
    this.gates.push({ matches, reached, open });
    return { reached: reachedP, release };
  }

  private async gate(k: string): Promise<void> {
    const i = this.gates.findIndex((g) => g.matches(k));
    if (i < 0) return;
    const [g] = this.gates.splice(i, 1);
    g!.reached();
    await g!.open;
  }

  async getJson<V>(k: string, _shape: Shape<V>) {
    const s = this.store.keys.get(k);
    if (!s) return { value: undefined, entry: null };
    return { value: s.deleted ? undefined : (structuredClone(s.value) as V), entry: { revision: s.revision, operation: s.deleted ? "DEL" : "PUT" } };
  }

  async cas<V, R>(k: string, shape: Shape<V>, fn: Fn<V, R>): Promise<R> {
    return (await this.casAt(k, shape, fn)).result;
  }

  async casAt<V, R>(k: string, _shape: Shape<V>, fn: Fn<V, R>) {
    await this.gate(k);
    const s = this.store.keys.get(k);
    const live = s !== undefined && !s.deleted;
    const { next, result } = fn(live ? (structuredClone(s.value) as V) : undefined, s?.deleted ?? false, s?.revision ?? 0);
    if (next === UNCHANGED || (next === undefined && !live)) return { result, revision: s?.revision ?? 0 };
    const revision = ++this.store.revision;
    this.store.keys.set(k, next === undefined ? { value: undefined, revision, deleted: true } : { value: structuredClone(next), revision, deleted: false });
    return { result, revision };
  }

  async lastRevision(): Promise<number> {
    return this.store.revision;
  }

  async entries<V>(filter: string, _shape: Shape<V>) {
    const prefix = filter.slice(0, -1);
    const out = new Map<string, { value: V; revision: number }>();
    for (const [k, s] of this.store.keys) {
      if (!s.deleted && k.startsWith(prefix) && !k.slice(prefix.length).includes(".")) out.set(k, { value: structuredClone(s.value) as V, revision: s.revision });
    }
    return out;
  }

  async keys(filter: string): Promise<string[]> {
    return [...(await this.entries(filter, undefined as never)).keys()];
  }

  serial<T>(_k: string, task: () => Promise<T>): Promise<T> {
    return task();
  }

  asLink(): NatsLink {
    return this as unknown as NatsLink;
  }
}
