// The nats writer tells a channel re-occupied from a delete marker (announced vacated within the
// marker window) from one that is new: after NATS lost its data, only the first is news.
import { describe, expect, it } from "vitest";
import type { NatsLink } from "../../../src/adapters/nats/connection.ts";
import type { ChannelValue } from "../../../src/adapters/nats/state.ts";
import { EpochBase } from "../../../src/adapters/nats/epoch.ts";
import { ContributionWriter } from "../../../src/adapters/nats/writer.ts";
import { LocalAdapter } from "../../../src/adapters/local.ts";

describe("nats writer", () => {
  it("marks a channel occupied from a delete marker as vacated since", async () => {
    const local = new LocalAdapter(() => 0);
    await local.join("app", "presence-x", "s1", { userId: "u1", userInfo: null });
    let deleted = false;
    const link = {
      entries: async () => new Map(),
      casAt: async (_k: string, _shape: unknown, fn: (v: unknown, d: boolean, r: number) => { result: unknown }) => ({ result: fn(undefined, deleted, 0).result, revision: 1 }),
      cas: async (_k: string, _shape: unknown, fn: (v: ChannelValue | undefined, d: boolean) => { result: unknown }) => fn(undefined, deleted).result,
    } as unknown as NatsLink;
    const writer = new ContributionWriter(link, local, "me", new EpochBase(link, () => 0));
    expect((await writer.channel("app", "presence-x"))!.vacatedSince).toBe(false);
    deleted = true;
    expect((await writer.channel("app", "presence-x"))!).toMatchObject({ occupied: true, vacatedSince: true });
  });
});
