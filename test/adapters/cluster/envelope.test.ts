import { describe, expect, it } from "vitest";
import { readEnvelope, writeEnvelope } from "../../../src/adapters/cluster/envelope.ts";
import type { ClusterMessage } from "../../../src/core/adapter.ts";

describe("bus envelopes", () => {
  const message: ClusterMessage = { type: "terminate", appId: "app", userId: "u1" };

  it("carries a message to the other nodes and drops the sender's own echo", () => {
    const payload = writeEnvelope("A", message);
    expect(readEnvelope(payload, "B")).toEqual(message);
    expect(readEnvelope(payload, "A")).toBeUndefined();
  });

  it("ignores payloads that are not envelopes instead of throwing", () => {
    for (const junk of ["", "not json", "null", "42", '"text"', "{}", '{"o":"A"}', '{"o":"A","m":null}']) {
      expect(readEnvelope(junk, "B")).toBeUndefined();
    }
  });
});
