// The nats writer tells a channel re-occupied from a delete marker (announced vacated within the
// marker window) from one that is new: after NATS lost its data, only the first is news.
import { describe, expect, it } from "vitest";
import { key } from "../../../src/adapters/nats/state.ts";
import { ContributionWriter } from "../../../src/adapters/nats/writer.ts";
import { LocalAdapter } from "../../../src/adapters/local.ts";
import { FakeLink, FakeStore } from "./fake-link.ts";

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
