// The adapter reports its backend up/down through ClusterNode.backendState; the node turns each
// report into one "backend" server event (metrics and the console show it).
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import type { ClusterNode } from "../../src/core/adapter.ts";
import { Harness } from "../helpers/harness.ts";

class ReportingAdapter extends LocalAdapter {
  reportTo?: ClusterNode;
  override async start(node: ClusterNode): Promise<void> {
    this.reportTo = node;
    await super.start(node);
  }
}

describe("backend state", () => {
  it("becomes a backend event with the driver, the adapter role and the reason", async () => {
    const adapter = new ReportingAdapter();
    const h = await new Harness({ adapter }).start();
    adapter.reportTo!.backendState!("redis", false, "connection closed");
    adapter.reportTo!.backendState!("redis", true);
    expect(h.eventsOf("backend")).toEqual([
      expect.objectContaining({ appId: "", driver: "redis", role: "adapter", up: false, detail: "connection closed" }),
      expect.objectContaining({ appId: "", driver: "redis", role: "adapter", up: true }),
    ]);
    await h.stop();
  });
});
