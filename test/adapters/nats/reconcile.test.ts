// What the nats driver announces when it re-registers after NATS lost its data: nothing the
// cluster knew already, except a channel a leave vacated meanwhile (its key was deleted), whose
// occupancy and members are news again. The writer tells the two apart by the delete marker.
import { describe, expect, it } from "vitest";
import { Reconciler } from "../../../src/adapters/nats/reconcile.ts";
import { key, type ChannelChange } from "../../../src/adapters/nats/state.ts";
import { ContributionWriter } from "../../../src/adapters/nats/writer.ts";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import type { ClusterTransition } from "../../../src/core/adapter.ts";
import { FakeLink, FakeStore } from "./fake-link.ts";

const reoccupied = (vacatedSince: boolean): ChannelChange => ({
  value: { n: { me: 1 } }, changed: true, occupied: true, vacated: false, added: [{ userId: "u1", userInfo: null }], removed: [],
  seq: 7, subscriptionCount: 1, countChanged: true, vacatedSince,
});

async function afterDataLoss() {
  const epochs = ["first", "second"];
  const write = { epoch: async () => epochs.shift()! } as unknown as ContributionWriter;
  const transitions: ClusterTransition[] = [];
  const reconciler = new Reconciler("me", new LocalAdapter(() => 0), write, { transition: (_app, t) => void transitions.push(t) });
  await reconciler.resync(() => true);
  await reconciler.resync(() => true); // a new epoch: NATS lost its data
  return { reconciler, transitions };
}

describe("nats reconciler after NATS lost its data", () => {
  it("announces nothing for a channel that was only re-registered", async () => {
    const { reconciler, transitions } = await afterDataLoss();
    reconciler.announce("app", "presence-x", reoccupied(false), true, true);
    expect(transitions).toEqual([]);
  });

  it("announces occupied and the members for a channel announced vacated meanwhile", async () => {
    const { reconciler, transitions } = await afterDataLoss();
    reconciler.announce("app", "presence-x", reoccupied(true), true, true);
    expect(transitions).toEqual([
      expect.objectContaining({ type: "joined", channel: "presence-x", occupied: true, memberAdded: true, member: { userId: "u1", userInfo: null } }),
    ]);
  });
});

describe("nats writer", () => {
  it("marks a channel occupied from a delete marker as vacated since", async () => {
    const local = new LocalAdapter(() => 0);
    await local.join("app", "presence-x", "s1", { userId: "u1", userInfo: null });
    const store = new FakeStore();
    const writer = new ContributionWriter(new FakeLink(store).asLink(), local, "me", () => 1_000);
    expect((await writer.channel("app", "presence-x")).vacatedSince).toBe(false);
    // Vacated (the key deleted, a marker left), then this node's share written back.
    await local.leave("app", "presence-x", "s1", { userId: "u1", userInfo: null });
    await writer.channel("app", "presence-x");
    expect(store.live()[key("app", "c", "presence-x")]).toBeUndefined();
    await local.join("app", "presence-x", "s1", { userId: "u1", userInfo: null });
    expect(await writer.channel("app", "presence-x")).toMatchObject({ occupied: true, vacatedSince: true });
  });
});
