import { afterEach, describe, expect, it, vi } from "vitest";
import { consoleLogger, effectiveLevel } from "../../src/logging/logger.ts";

afterEach(() => vi.restoreAllMocks());

/** Captures what the logger writes, per console method. */
function capture() {
  const lines: string[] = [];
  for (const method of ["debug", "log", "warn", "error"] as const) vi.spyOn(console, method).mockImplementation((line: string) => void lines.push(line));
  return lines;
}

describe("consoleLogger", () => {
  it("json: one object per line with time, level, message and the fields", () => {
    const lines = capture();
    const logger = consoleLogger("debug", "json");
    logger.debug("connection opened", { appId: "1", socketId: "1.2" });
    logger.error("boom", new Error("bad\nthing"));
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0]!);
    expect(first).toMatchObject({ level: "debug", message: "connection opened", appId: "1", socketId: "1.2" });
    expect(Date.parse(first.time)).not.toBeNaN();
    const second = JSON.parse(lines[1]!);
    expect(second).toMatchObject({ level: "error", message: "boom", error: "bad\nthing" });
    expect(second.stack).toContain("logger.test.ts");
    expect(lines[1]!.split("\n")).toHaveLength(1);
  });

  it("pretty: fields as key=value, the stack on the lines below", () => {
    const lines = capture();
    const logger = consoleLogger("info", "pretty");
    logger.info("subscribed", { appId: "1", channel: "a b", userId: undefined });
    logger.warn("failed", { path: "/x", error: new Error("nope") });
    expect(lines[0]).toBe('[switchboard] info: subscribed appId=1 channel="a b"');
    expect(lines[1]).toMatch(/^\[switchboard\] warn: failed path=\/x error=nope\nError: nope/);
  });

  it("drops entries below the level", () => {
    const lines = capture();
    const logger = consoleLogger("warn", "json");
    logger.debug("no");
    logger.info("no");
    logger.warn("yes");
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(["yes"]);
  });

  it("DEBUG=true means debug whatever LOG_LEVEL says", () => {
    expect(effectiveLevel({ logLevel: "error", debug: true })).toBe("debug");
    expect(effectiveLevel({ logLevel: "warn", debug: false })).toBe("warn");
  });
});
