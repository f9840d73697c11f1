// The nats bucket's data epoch: the first node creates it with the clock as the base of member
// sequences; a bucket created again (NATS lost it) gets a new id and a base above every sequence
// handed out before, also when this node's clock is behind.
import { describe, expect, it } from "vitest";
import { EpochBase } from "../../../src/adapters/nats/epoch.ts";
import { FakeLink, FakeStore } from "./fake-link.ts";

describe("nats epoch", () => {
  it("is created once, with the clock in microseconds as its base, and read as it is after that", async () => {
    const store = new FakeStore();
    const first = await new EpochBase(new FakeLink(store).asLink(), () => 5_000).read();
    expect(first.base).toBe(5_000_000);
    const other = new EpochBase(new FakeLink(store).asLink(), () => 9_000);
    expect(await other.read()).toEqual(first);
    expect(other.seqOf(7)).toBe(5_000_007);
  });

  it("starts a bucket created again above the sequences this node handed out, whatever its clock says", async () => {
    const epochs = new EpochBase(new FakeLink(new FakeStore()).asLink(), () => 1_000);
    await epochs.read();
    const last = epochs.seqOf(5_000_000); // more revisions than microseconds passed
    (epochs as unknown as { link: FakeLink }).link = new FakeLink(new FakeStore()); // the bucket is gone
    const again = await epochs.read();
    expect(epochs.seqOf(1)).toBeGreaterThan(last);
    expect(again.base).toBe(last + 1);
  });

  it("replaces an earlier version's epoch (a bare id) with one that has a base", async () => {
    const store = new FakeStore();
    store.keys.set("epoch", { value: "old-id", revision: 1, deleted: false });
    const epoch = await new EpochBase(new FakeLink(store).asLink(), () => 2).read();
    expect(epoch).toEqual({ id: expect.not.stringMatching(/^old-id$/), base: 2_000 });
    expect(store.live().epoch).toEqual(epoch);
  });
});
