import { describe, expect, it } from "vitest";
import { NodeShareRateCounter } from "../../../src/adapters/nats/rate-share.ts";

async function passed(counter: NodeShareRateCounter, tries: number, limit: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < tries; i++) if ((await counter.consumeRate("app", "backend", 1, limit))?.allowed) n++;
  return n;
}

describe("nats rate counter: each live node's share", () => {
  it("splits the limit so the nodes together never exceed it, the remainder going to the first ids", async () => {
    const nodes = ["a", "b", "c"];
    const counters = nodes.map((id) => new NodeShareRateCounter(id, () => nodes, () => 5_000));
    expect(await Promise.all(counters.map((c) => passed(c, 10, 5)))).toEqual([2, 2, 1]);
  });

  it("does not answer while NATS is away, so the caller counts on this node", async () => {
    const counter = new NodeShareRateCounter("a", () => undefined, () => 0);
    expect(await counter.consumeRate("app", "backend", 1, 5)).toBeUndefined();
  });
});
