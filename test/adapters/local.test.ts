// The local adapter's channel page, as the cluster drivers answer it (channel-page-check.ts), and
// the order of its subscription counts.
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { expectChannelPage } from "./channel-page-check.ts";

describe("local adapter", () => {
  it("lists the first occupied channels by name, past the server's own, with the total", async () => {
    const local = new LocalAdapter();
    await expectChannelPage(local, local, "app");
  });

  it("orders every count of a channel above the last, across a vacate and a rejoin at the same instant", async () => {
    const local = new LocalAdapter(() => 0);
    const seqs = [
      (await local.join("app", "c", "s1")).countSeq!,
      (await local.join("app", "c", "s2")).countSeq!,
      (await local.leave("app", "c", "s1")).countSeq!,
      (await local.leave("app", "c", "s2")).countSeq!, // vacated: the channel's state is gone
      (await local.join("app", "c", "s3")).countSeq!,
    ];
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
  });
});
