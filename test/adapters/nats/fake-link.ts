// An in-memory stand-in for NatsLink's KV operations (revisions, delete markers, compare-and-set),
// one store shared by several nodes' links, with a gate that holds one node's next write to a key
// so a test can order two nodes' steps the way a race on a real NATS may.
import { UNCHANGED, type Mutation, type NatsLink } from "../../../src/adapters/nats/connection.ts";
import type { Shape } from "../../../src/adapters/nats/values.ts";

interface Stored {
  value: unknown;
  revision: number;
  deleted: boolean;
  /** When it was written, by the store's clock. */
  created: number;
}

export class FakeStore {
  readonly keys = new Map<string, Stored>();
  revision = 0;
  now = 0;

  live(): Record<string, unknown> {
    return Object.fromEntries([...this.keys].filter(([, s]) => !s.deleted).map(([k, s]) => [k, s.value]));
  }
}

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
    const entry = { revision: s.revision, operation: s.deleted ? "DEL" : "PUT" };
    return { value: s.deleted ? undefined : structuredClone(s.value) as V, entry };
  }

  async cas<V, R>(k: string, shape: Shape<V>, fn: (current: V | undefined, deleted: boolean) => Mutation<V, R>): Promise<R> {
    return (await this.casAt(k, shape, fn)).result;
  }

  async casAt<V, R>(k: string, _shape: Shape<V>, fn: (current: V | undefined, deleted: boolean) => Mutation<V, R>) {
    await this.gate(k);
    const s = this.store.keys.get(k);
    const { next, result } = fn(s && !s.deleted ? structuredClone(s.value) as V : undefined, s?.deleted ?? false);
    if (next === UNCHANGED) return { result, revision: s && !s.deleted ? s.revision : 0 };
    const revision = ++this.store.revision;
    if (next === undefined) {
      if (s && !s.deleted) this.store.keys.set(k, { value: undefined, revision, deleted: true, created: this.store.now });
      return { result, revision: 0 };
    }
    this.store.keys.set(k, { value: structuredClone(next), revision, deleted: false, created: this.store.now });
    return { result, revision };
  }

  async deleteAt(k: string, revision: number): Promise<boolean> {
    const s = this.store.keys.get(k);
    if (!s || s.deleted || s.revision !== revision) return false;
    this.store.keys.set(k, { value: undefined, revision: ++this.store.revision, deleted: true, created: this.store.now });
    return true;
  }

  async entries<V>(filter: string, _shape: Shape<V>) {
    const prefix = filter.slice(0, -1);
    const out = new Map<string, { value: V; revision: number; created: number }>();
    for (const [k, s] of this.store.keys) {
      if (!s.deleted && k.startsWith(prefix) && !k.slice(prefix.length).includes(".")) out.set(k, { value: structuredClone(s.value) as V, revision: s.revision, created: s.created });
    }
    return out;
  }

  serial<T>(_k: string, task: () => Promise<T>): Promise<T> {
    return task();
  }

  asLink(): NatsLink {
    return this as unknown as NatsLink;
  }
}
