// The pipeline from server events to queued jobs: an occupancy or membership change decided by
// one node alone while the cluster backend was away (localOnly) gets no webhook, since another
// node may still hold the channel; the resync announces what really changed.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryAppStore } from "../../src/app-stores/memory.ts";
import type { CryptoProvider } from "../../src/core/runtime.ts";
import type { WebhookJob } from "../../src/webhooks/job.ts";
import { WebhookPipeline } from "../../src/webhooks/pipeline.ts";
import type { WebhookQueue } from "../../src/webhooks/queues/queue.ts";
import { WebhookStats } from "../../src/webhooks/stats.ts";
import { app, globalTimers, recordingLogger } from "./harness.ts";

const crypto: CryptoProvider = {
  hmacSha256Hex: async (secret, message) => createHmac("sha256", secret).update(message).digest("hex"),
  md5Hex: () => "",
};

function setup() {
  const jobs: WebhookJob[] = [];
  const queue = { push: async (job: WebhookJob) => void jobs.push(job) } as unknown as WebhookQueue;
  const logger = recordingLogger();
  const hooks = app({ webhooks: [{ url: "https://hooks.example/p", event_types: ["channel_occupied", "channel_vacated", "member_added", "member_removed"] }] });
  const pipeline = new WebhookPipeline({
    apps: new MemoryAppStore([hooks]), crypto, timers: globalTimers, logger, queue, stats: new WebhookStats(async () => 0),
    batching: false, batchWindowMs: 50, vacateDelayMs: 0, maxUnpushed: 100, retryWindowMs: 1000,
  });
  const names = () => jobs.map((j) => (JSON.parse(j.body) as { events: { name: string }[] }).events.map((e) => e.name).join());
  return { pipeline, logger, names, appId: hooks.id };
}

describe("webhook pipeline", () => {
  it("sends no webhook for a transition decided while the cluster backend was away", async () => {
    const { pipeline, logger, names, appId } = setup();
    pipeline.consume({ kind: "member_removed", appId, time: 1, channel: "presence-x", userId: "u1", localOnly: true });
    pipeline.consume({ kind: "channel_vacated", appId, time: 2, channel: "presence-x", localOnly: true });
    pipeline.consume({ kind: "channel_occupied", appId, time: 3, channel: "presence-y" });
    await pipeline.flush(Date.now() + 1000);
    expect(names()).toEqual(["channel_occupied"]);
    expect(logger.lines).toContain("debug: webhooks: no channel_vacated for presence-x yet: decided while the cluster backend was away");
  });
});
