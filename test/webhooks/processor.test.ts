// Each webhook attempt is told on the server event stream as webhook_delivery (the debug console
// shows it): sent, retry (with why), dead.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStream, type EventOf } from "../../src/core/events.ts";
import { createProcessor, LATE_ATTEMPT_MS } from "../../src/webhooks/processor.ts";
import { WebhookStats } from "../../src/webhooks/stats.ts";
import { globalTimers, recordingLogger } from "./harness.ts";

let http: Server;
let url = "";
beforeAll(async () => {
  http = createServer((req, res) => {
    res.statusCode = req.url?.startsWith("/ok") ? 200 : 500;
    res.end();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => http.close(() => resolve())));

describe("webhook_delivery events", () => {
  it("tells each attempt's outcome, without the URL's query", async () => {
    const logger = recordingLogger();
    const events = new EventStream(globalTimers.now, logger);
    const seen: EventOf<"webhook_delivery">[] = [];
    events.subscribe("test", (e) => void seen.push(e as EventOf<"webhook_delivery">), ["webhook_delivery"]);
    const work = createProcessor({
      apps: { findById: async () => undefined, findByKey: async () => undefined, all: async () => [] },
      timers: globalTimers, logger, stats: new WebhookStats(async () => 0), timeoutMs: 2000, retryWindowMs: 60_000, events,
    });
    const job = (path: string) => ({
      id: "j1", appId: "app", target: { url: `${url}${path}?token=hidden` }, headers: {}, body: "{}", events: 2, channels: ["c"], createdAt: Date.now(),
    });
    await work({ job: job("/ok"), attempt: 1 });
    await work({ job: job("/fail"), attempt: 1 });
    await work({ job: job("/fail"), attempt: 3, firstAttemptAt: Date.now() - 90_000 });
    expect(seen.map((e) => [e.outcome, e.status, e.attempt, e.events])).toEqual([["sent", 200, 1, 2], ["retry", 500, 1, 2], ["dead", 500, 3, 2]]);
    expect(seen.every((e) => e.appId === "app" && !e.target.includes("hidden"))).toBe(true);
    expect(seen[1]!.error).toBeTruthy();
  });
});

describe("a job far past its retry window", () => {
  it("is dead-lettered without another attempt: its earlier attempts never finished", async () => {
    const logger = recordingLogger();
    const stats = new WebhookStats(async () => 0);
    const work = createProcessor({
      apps: { findById: async () => undefined, findByKey: async () => undefined, all: async () => [] },
      timers: globalTimers, logger, stats, timeoutMs: 2000, retryWindowMs: 60_000,
    });
    let requests = 0;
    const counting = createServer((_req, res) => {
      requests++;
      res.end();
    });
    await new Promise<void>((resolve) => counting.listen(0, "127.0.0.1", resolve));
    try {
      const target = { url: `http://127.0.0.1:${(counting.address() as { port: number }).port}/ok` };
      const job = { id: "j2", appId: "app", target, headers: {}, body: "{}", events: 1, channels: ["c"], createdAt: Date.now() };
      const outcome = await work({ job, attempt: 40, firstAttemptAt: Date.now() - 60_000 - LATE_ATTEMPT_MS - 1000 });
      expect(outcome).toMatchObject({ kind: "dead", reason: expect.stringMatching(/^not attempted: 39 attempts/) });
      expect(stats.deadLetters).toBe(1);
      // The same job within the window is sent: the refusal above was not a failed request.
      expect(await work({ job, attempt: 2, firstAttemptAt: Date.now() - 1000 })).toEqual({ kind: "done" });
      expect(requests).toBe(1);
    } finally {
      await new Promise<void>((resolve) => counting.close(() => resolve()));
    }
  });
});
