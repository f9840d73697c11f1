// Publishing through the HTTP API: the error messages carry hosted Pusher's phrases, which SDK test
// suites look for, before ours.
import { afterEach, describe, expect, it } from "vitest";
import { routerOverHarness as api, signedUrl, stopRouters } from "./fixtures/router.ts";

afterEach(stopRouters);

describe("error messages carry hosted Pusher's phrases before ours", () => {
  const post = async (path: string, body: unknown) => {
    const { router, harness } = await api();
    const text = JSON.stringify(body);
    const res = await router.request(signedUrl(path, text, Math.floor(harness.timers.now() / 1000)), { method: "POST", body: text });
    return { status: res.status, error: ((await res.json()) as { error: string }).error };
  };
  const event = (data: string) => ({ name: "e", channel: "c", data });

  it("400 Batch too large for a batch over maxEventBatchSize", async () => {
    const answer = await post("/apps/app-id/batch_events", { batch: Array.from({ length: 11 }, () => event("x")) });
    expect(answer).toEqual({ status: 400, error: "Batch too large: batch holds more than 10 events" });
  });

  it("413 '… content of this event …' for data over maxEventPayloadInKb, alone or in a batch", async () => {
    const big = "a".repeat(11 * 1024);
    const alone = await post("/apps/app-id/events", event(big));
    expect(alone).toEqual({ status: 413, error: "The data content of this event exceeds the allowed maximum (10240 bytes): data is larger than 10 KB" });
    const batched = await post("/apps/app-id/batch_events", { batch: [event(big)] });
    expect(batched.status).toBe(413);
    expect(batched.error).toContain("content of this event");
  });
});
