import { describe, expect, it } from "vitest";
import { backoffMs, nextRetryMs } from "../../src/webhooks/retry.ts";

describe("retry policy: 1 s doubling, capped at 60 s, until 5 min after the first attempt", () => {
  it("backs off 1, 2, 4 ... 32, 60, 60 s", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
  });

  it("schedules attempts within the window, the last one exactly at its end, then gives up", () => {
    const window = 300_000;
    let now = 0;
    const attempts = [now];
    for (let failures = 1; ; failures++) {
      const wait = nextRetryMs(failures, 0, now, window);
      if (wait === undefined) break;
      now += wait;
      attempts.push(now);
    }
    expect(attempts.map((t) => t / 1000)).toEqual([0, 1, 3, 7, 15, 31, 63, 123, 183, 243, 300]);
  });

  it("gives up at once with a zero window", () => {
    expect(nextRetryMs(1, 1000, 1000, 0)).toBeUndefined();
  });
});
