import { describe, expect, it } from "vitest";
import type { WebhookJob } from "../../../src/webhooks/job.ts";
import { MemoryQueue, QueueFullError } from "../../../src/webhooks/queues/memory.ts";
import type { Delivery, Outcome } from "../../../src/webhooks/queues/queue.ts";
import { globalTimers, recordingLogger } from "../harness.ts";

const job = (id: string, channels: string[]): WebhookJob => ({
  id, appId: "1", target: { url: "http://h.example/" }, headers: {}, body: "{}", events: channels.length, channels, createdAt: 0,
});

const tick = () => new Promise((r) => setTimeout(r, 5));

describe("MemoryQueue", () => {
  it("sends one channel's bodies one at a time, in order, while other channels proceed", async () => {
    const q = new MemoryQueue(globalTimers, recordingLogger(), 4, 100, 10);
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    q.start((d: Delivery) => {
      started.push(d.job.id);
      return new Promise<Outcome>((resolve) => finish.set(d.job.id, () => resolve({ kind: "done" })));
    });
    await q.push(job("a1", ["a"]));
    await q.push(job("a2", ["a"]));
    await q.push(job("ab", ["a", "b"]));
    await q.push(job("b1", ["b"]));
    await q.push(job("c1", ["c"]));
    // a2 waits for a1; ab waits for a; b1 must not overtake ab (they share b); c1 goes.
    expect(started).toEqual(["a1", "c1"]);
    finish.get("a1")!();
    await tick();
    expect(started).toEqual(["a1", "c1", "a2"]);
    finish.get("a2")!();
    await tick();
    expect(started).toEqual(["a1", "c1", "a2", "ab"]);
    finish.get("ab")!();
    await tick();
    expect(started).toEqual(["a1", "c1", "a2", "ab", "b1"]);
  });

  it("retries after the delay the worker asked for, and keeps dead letters", async () => {
    const q = new MemoryQueue(globalTimers, recordingLogger(), 1, 100, 10);
    const attempts: Delivery[] = [];
    q.start(async (d) => {
      attempts.push(d);
      if (d.attempt === 1) return { kind: "retry", delayMs: 10, firstAttemptAt: 123 };
      return { kind: "dead", reason: "gave up" };
    });
    await q.push(job("x", ["a"]));
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts.map((d) => [d.attempt, d.firstAttemptAt])).toEqual([[1, undefined], [2, 123]]);
    expect((await q.deadLetters(5)).map((l) => [l.job.id, l.reason])).toEqual([["x", "gave up"]]);
  });

  it("refuses jobs beyond its capacity", async () => {
    const q = new MemoryQueue(globalTimers, recordingLogger(), 1, 1, 10);
    await q.push(job("x", ["a"]));
    await expect(q.push(job("y", ["a"]))).rejects.toBeInstanceOf(QueueFullError);
  });

  it("sends what is waiting on stop, within the deadline", async () => {
    const q = new MemoryQueue(globalTimers, recordingLogger(), 1, 100, 10);
    await q.push(job("x", ["a"]));
    await q.push(job("y", ["a"]));
    const sent: string[] = [];
    q.start(async (d) => {
      sent.push(d.job.id);
      return { kind: "done" };
    });
    await q.stop(Date.now() + 1000);
    expect(sent).toEqual(["x", "y"]);
  });
});
