// The local adapter's channel page, as the cluster drivers answer it (channel-page-check.ts).
import { describe, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { expectChannelPage } from "./channel-page-check.ts";

describe("local adapter", () => {
  it("lists the first occupied channels by name, past the server's own, with the total", async () => {
    const local = new LocalAdapter();
    await expectChannelPage(local, local, "app");
  });
});
