import { describe, expect, it } from "vitest";
import { FailureLog, REPEAT_MS } from "../../../src/adapters/cluster/failures.ts";
import type { Logger } from "../../../src/core/runtime.ts";

function setup() {
  let now = 0;
  const warnings: string[] = [];
  const debug: string[] = [];
  const logger: Logger = { info() {}, error() {}, warn: (m) => void warnings.push(m), debug: (m) => void debug.push(m) };
  const log = new FailureLog("redis", logger, () => now);
  return { log, warnings, debug, tick: (ms: number) => (now += ms) };
}

describe("backend failure log", () => {
  it("warns once per operation during an outage and counts the rest until the backend recovers", () => {
    const { log, warnings, debug } = setup();
    for (let i = 0; i < 3; i++) log.failed("join", new Error("Connection is closed."));
    log.failed("leave", "timeout");
    expect(warnings).toEqual([
      "redis adapter: join failed: Connection is closed.; repeats are counted until the backend recovers",
      "redis adapter: leave failed: timeout; repeats are counted until the backend recovers",
    ]);
    expect(debug).toHaveLength(4);
    log.recovered();
    expect(warnings[2]).toBe("redis adapter: join failed 2 more times before the backend recovered");
    expect(warnings).toHaveLength(3);
    // The next outage warns again.
    log.failed("join", new Error("again"));
    expect(warnings[3]).toMatch(/^redis adapter: join failed: again;/);
  });

  it("warns again, with the count, when failures outlast the repeat interval while the backend is up", () => {
    const { log, warnings, tick } = setup();
    log.failed("members", new Error("unexpected reply"));
    log.failed("members", new Error("unexpected reply"));
    tick(REPEAT_MS);
    log.failed("members", new Error("unexpected reply"));
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain("(and 1 more times since the last warning)");
  });
});
