import { describe, expect, it } from "vitest";
import { CACHE, CHANNEL, TEXT, USER } from "../../../src/adapters/nats/values.ts";

describe("nats bucket value shapes", () => {
  it("accepts what the driver writes", () => {
    expect(CHANNEL.is({ n: { A: 2 } })).toBe(true);
    expect(CHANNEL.is({ n: {}, m: { u1: { n: { A: 1 }, i: { name: "x" }, o: 1 } }, s: 1, v: 17 })).toBe(true);
    expect(USER.is({ n: { A: 1, B: 2 } })).toBe(true);
    expect(CACHE.is({ event: "e", data: "d", ttl: 30 })).toBe(true);
    expect(TEXT.is("epoch-id")).toBe(true);
  });

  it("rejects anything else", () => {
    for (const v of [undefined, null, 3, "x", [], {}, { n: { A: "2" } }, { n: {}, m: { u1: { n: {} } } }, { n: {}, v: "1" }]) {
      expect(CHANNEL.is(v)).toBe(false);
    }
    expect(USER.is({ n: [] })).toBe(false);
    expect(CACHE.is({ event: "e", data: 1, ttl: 30 })).toBe(false);
    expect(TEXT.is(1)).toBe(false);
  });
});
