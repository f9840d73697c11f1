import { describe, expect, it } from "vitest";
import { CACHE, CHANNEL, EPOCH, MEMBER, USER } from "../../../src/adapters/nats/values.ts";

describe("nats bucket value shapes", () => {
  it("accepts what the driver writes", () => {
    expect(CHANNEL.is({ n: { A: 2 } })).toBe(true);
    expect(CHANNEL.is({ n: { A: 1 }, mc: 3, x: 1 })).toBe(true);
    expect(MEMBER.is({ n: { A: 1 }, i: { name: "x" } })).toBe(true);
    expect(MEMBER.is({ n: { A: 1 }, o: 17 })).toBe(true);
    expect(USER.is({ n: { A: 1, B: 2 } })).toBe(true);
    expect(CACHE.is({ event: "e", data: "d", ttl: 30 })).toBe(true);
    expect(EPOCH.is({ id: "epoch-id", base: 1_700_000_000_000_000 })).toBe(true);
    expect(EPOCH.is("an earlier version's epoch id")).toBe(true);
  });

  it("rejects anything else", () => {
    for (const v of [undefined, null, 3, "x", [], {}, { n: { A: "2" } }, { n: {}, mc: "1" }]) {
      expect(CHANNEL.is(v)).toBe(false);
    }
    expect(MEMBER.is({ n: {}, o: "1" })).toBe(false);
    expect(MEMBER.is({ i: 1 })).toBe(false);
    expect(USER.is({ n: [] })).toBe(false);
    expect(CACHE.is({ event: "e", data: 1, ttl: 30 })).toBe(false);
    expect(EPOCH.is({ id: "x" })).toBe(false);
    expect(EPOCH.is(1)).toBe(false);
  });
});
