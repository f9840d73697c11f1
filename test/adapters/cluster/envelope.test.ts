import { describe, expect, it } from "vitest";
import { readEnvelope, writeEnvelope, writeHello } from "../../../src/adapters/cluster/envelope.ts";
import type { ClusterMessage } from "../../../src/core/adapter.ts";

describe("bus envelopes", () => {
  const message: ClusterMessage = { type: "terminate", appId: "app", userId: "u1" };

  it("carries a message to the other nodes and drops the sender's own echo", () => {
    const payload = writeEnvelope("A", message);
    expect(readEnvelope(payload, "B")).toEqual({ from: "A", message });
    expect(readEnvelope(payload, "A")).toBeUndefined();
  });

  it("carries a hello: who is on the bus, without a message", () => {
    expect(readEnvelope(writeHello("A"), "B")).toEqual({ from: "A" });
    expect(readEnvelope(writeHello("A"), "A")).toBeUndefined();
  });

  it("ignores payloads that are not envelopes instead of throwing", () => {
    for (const junk of ["", "not json", "null", "42", '"text"', "{}", '{"o":5}', '{"o":"A","m":null}', '{"o":"A","m":"x"}']) {
      expect(readEnvelope(junk, "B")).toBeUndefined();
    }
  });
});
