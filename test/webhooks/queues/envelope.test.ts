// Stored webhook jobs read back by the durable queues (redis, sqs): a job that cannot be delivered
// as stored is refused (the queue reports and removes it), another version's extra fields pass.
import { describe, expect, it } from "vitest";
import { parseEnvelope } from "../../../src/webhooks/queues/queue.ts";

const job = {
  id: "j1", appId: "app", target: { url: "http://127.0.0.1:1/hook" }, headers: { "X-Pusher-Key": "k" },
  body: "{}", events: 1, channels: ["c"], createdAt: 1,
};

describe("parseEnvelope", () => {
  it("reads a stored envelope, URL or Lambda target, keeping fields it does not know", () => {
    expect(parseEnvelope(JSON.stringify({ job, attempt: 2, first: 5 }))).toEqual({ job, attempt: 2, first: 5 });
    const lambda = { ...job, target: { lambdaFunction: "fn", async: true }, extra: 1 };
    expect(parseEnvelope(JSON.stringify({ job: lambda, attempt: 0 }))).toEqual({ job: lambda, attempt: 0 });
  });

  it("refuses what it could not deliver as stored", () => {
    for (const bad of [
      "not json", "[]", JSON.stringify({ attempt: 1 }), JSON.stringify({ job, attempt: "1" }), JSON.stringify({ job, attempt: -1 }),
      JSON.stringify({ job: { ...job, body: 5 }, attempt: 1 }), JSON.stringify({ job: { ...job, target: {} }, attempt: 1 }),
      JSON.stringify({ job: { ...job, headers: { a: 1 } }, attempt: 1 }),
    ]) expect(parseEnvelope(bad)).toBeUndefined();
  });
});
