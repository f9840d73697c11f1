// A node's share of a presence channel written as member keys, then the channel key, against an
// in-memory bucket where a test can hold one node between its two writes. Each member transition's
// sequence is the revision of the member key's write (above the epoch's base), so however the
// nodes' steps interleave, of one user's transitions the later-decided has the higher sequence.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import { EpochBase } from "../../../src/adapters/nats/epoch.ts";
import { NatsReads } from "../../../src/adapters/nats/queries.ts";
import { key, memberKey } from "../../../src/adapters/nats/state.ts";
import { ContributionWriter } from "../../../src/adapters/nats/writer.ts";
import { FakeLink, FakeStore } from "./fake-link.ts";

const CH = "presence-room";
const ck = key("app", "c", CH);
const mk = (userId: string) => memberKey("app", CH, userId);

function node(store: FakeStore, id: string) {
  const link = new FakeLink(store);
  const local = new LocalAdapter(() => 0);
  const epochs = new EpochBase(link.asLink(), () => 0);
  epochs.epoch = { id: "epoch", base: store.base };
  const write = new ContributionWriter(link.asLink(), local, id, epochs);
  return {
    link, local, write, reads: new NatsReads(link.asLink(), () => 0, epochs),
    async join(socketId: string, userId: string, maxMembers?: number) {
      const member = { userId, userInfo: { id: userId } };
      const joined = await local.join("app", CH, socketId, member);
      const change = await write.socket("app", CH, userId, joined.memberAdded ? maxMembers : undefined);
      if (!change) await local.leave("app", CH, socketId, member);
      return change;
    },
    async leave(socketId: string, userId: string) {
      await local.leave("app", CH, socketId, { userId, userInfo: null });
      return (await write.socket("app", CH, userId))!;
    },
  };
}

describe("nats members as keys of their own", () => {
  it("sequences a join and a leave by the member key's revision, and keeps the channel's member count", async () => {
    const store = new FakeStore(5_000);
    const A = node(store, "A");
    const joined = await A.join("a1", "u");
    expect(joined).toMatchObject({ occupied: true, added: [{ userId: "u", userInfo: { id: "u" }, seq: 5_001 }], removed: [] });
    expect(store.live()).toEqual({ [mk("u")]: { n: { A: 1 }, i: { id: "u" } }, [ck]: { n: { A: 1 }, mc: 1 } });
    expect((await A.join("a2", "u"))!.added).toEqual([]); // a second socket: no transition
    await A.leave("a1", "u");
    const left = await A.leave("a2", "u");
    expect(left).toMatchObject({ vacated: true, added: [], removed: [{ userId: "u", seq: 5_000 + store.revision - 1 }] });
    expect(store.live()).toEqual({});
  });

  it("orders a user moving from Y to X by the member key alone, whichever channel write lands last", async () => {
    const store = new FakeStore();
    const Y = node(store, "Y");
    const X = node(store, "X");
    await Y.join("y0", "stays");
    await Y.join("y1", "u");
    const held = Y.link.hold((k) => k === ck);
    const leaving = Y.leave("y1", "u");
    await held.reached; // Y decided the removal and has not written the channel key yet
    const added = await X.join("x1", "u");
    held.release();
    const left = await leaving;
    expect(left.removed.map((r) => r.userId)).toEqual(["u"]);
    expect(added!.added[0]!.seq).toBeGreaterThan(left.removed[0]!.seq);
    expect(store.live()[mk("u")]).toMatchObject({ n: { X: 1 } });
    expect(store.live()[ck]).toEqual({ n: { Y: 1, X: 1 }, mc: 2 });
  });

  it("orders subscriber counts by the channel key's revision, so the count written last is the newest", async () => {
    const store = new FakeStore(5_000);
    const Y = node(store, "Y");
    const X = node(store, "X");
    const first = (await Y.join("y0", "u0"))!;
    expect(first).toMatchObject({ subscriptionCount: 1, countSeq: 5_000 + store.revision });
    const held = Y.link.hold((k) => k === ck);
    const leaving = Y.leave("y0", "u0");
    await held.reached; // Y took its socket out of the member key, not yet out of the channel key
    const joined = (await X.join("x1", "u1"))!;
    held.release();
    const left = await leaving;
    // X's count (2) was written first, Y's (1) last: Y's is the channel's count now, and the newer.
    expect(joined.subscriptionCount).toBe(2);
    expect(left.subscriptionCount).toBe(1);
    expect(joined.countSeq!).toBeGreaterThan(first.countSeq!);
    expect(left.countSeq!).toBeGreaterThan(joined.countSeq!);
    expect(left.countSeq).toBe(5_000 + store.revision);
  });

  it("admits the last place under the presence limit once across nodes, and an existing member always", async () => {
    const store = new FakeStore();
    const A = node(store, "A");
    const B = node(store, "B");
    expect(await A.join("a1", "u1", 2)).not.toBeNull();
    expect(await B.join("b1", "u2", 2)).not.toBeNull();
    expect(await B.join("b2", "u3", 2)).toBeNull();
    expect(B.local.contribution("app", CH).members.has("u3")).toBe(false);
    expect(await B.join("b3", "u1", 2)).not.toBeNull(); // u1 is a member already: no place needed
    expect(store.live()[ck]).toEqual({ n: { A: 1, B: 2 }, mc: 2 });
  });

  it("gives a reserved place back when another node added the user meanwhile", async () => {
    const store = new FakeStore();
    const A = node(store, "A");
    const B = node(store, "B");
    const held = A.link.hold((k) => k === mk("u"));
    const joining = A.join("a1", "u", 5);
    await held.reached; // A found no member key for u
    await B.join("b1", "u", 5); // B reserves and adds u
    expect(store.live()[ck]).toMatchObject({ mc: 1 });
    held.release(); // A reserves a place of its own, then finds u a member
    const change = await joining;
    expect(change!.added).toEqual([]);
    expect(store.live()[ck]).toEqual({ n: { A: 1, B: 1 }, mc: 1 });
  });

  it("sweeps a dead node's member keys with their own sequences, the member count down, then vacates", async () => {
    const store = new FakeStore();
    const A = node(store, "A");
    const dead = node(store, "dead");
    const added = await dead.join("d1", "shared"); // announced or not: the node may have died first
    await A.join("a1", "shared");
    await dead.join("d2", "alone");
    const swept = await A.write.channel("app", CH, "dead", ["shared", "alone"]);
    expect(swept.removed).toEqual([{ userId: "alone", seq: expect.any(Number) }]);
    // "shared" stays a member: its add is handed back with the sequence it was decided with.
    expect(swept.kept).toEqual([{ userId: "shared", userInfo: { id: "shared" }, seq: added!.added[0]!.seq }]);
    expect(swept).toMatchObject({ added: [], vacated: false, subscriptionCount: 1 });
    expect(store.live()[ck]).toEqual({ n: { A: 1 }, mc: 1 });
    expect(store.live()[mk("shared")]).toMatchObject({ n: { A: 1 } });
  });

  it("rewrites a node's whole share from local state: stale member keys crediting it are emptied", async () => {
    const store = new FakeStore();
    const A = node(store, "A");
    await A.join("a1", "u1");
    await A.join("a2", "u2");
    // The local state lost u2 (its socket closed while NATS was away), and u3 joined meanwhile.
    await A.local.leave("app", CH, "a2", { userId: "u2", userInfo: null });
    await A.local.join("app", CH, "a3", { userId: "u3", userInfo: 3 });
    const change = await A.write.channel("app", CH);
    expect(change.removed.map((r) => r.userId)).toEqual(["u2"]);
    expect(change.added.map((a) => a.userId)).toEqual(["u3"]);
    expect(store.live()[ck]).toEqual({ n: { A: 2 }, mc: 2 });
    expect((await A.write.channel("app", CH)).changed).toBe(false); // a repeated resync writes nothing
  });

  it("recounts a channel's members from its member keys, unless the channel key changed meanwhile", async () => {
    const store = new FakeStore();
    const A = node(store, "A");
    await A.join("a1", "u1");
    await A.join("a2", "u2");
    store.keys.get(ck)!.value = { n: { A: 2 }, mc: 3 }; // a node stopped between a member's two writes
    expect(await A.write.recount("app", CH)).toBe(true);
    expect(store.live()[ck]).toEqual({ n: { A: 2 }, mc: 2 });
    expect(await A.write.recount("app", CH)).toBe(false);
    store.keys.get(ck)!.value = { n: { A: 2 }, mc: 3 }; // a join that failed after reserving a place
    await A.write.channel("app", CH); // the resync's write of the whole share
    expect(store.live()[ck]).toEqual({ n: { A: 2 }, mc: 2 });
  });

  it("gives a member snapshot the sequence of the bucket's last revision read before the listing", async () => {
    const store = new FakeStore(1_000);
    const A = node(store, "A");
    const B = node(store, "B");
    await A.join("a1", "first");
    await B.join("b1", "second");
    await A.join("a2", "first"); // rewrites first's key: it keeps its place
    const snapshot = await B.reads.members("app", CH);
    expect([...snapshot.members.keys()]).toEqual(["first", "second"]);
    expect(snapshot.seq).toBe(1_000 + store.revision);
    const later = await B.join("b2", "third");
    expect(later!.added[0]!.seq).toBeGreaterThan(snapshot.seq);
  });
});
