// The console's messages on the cluster bus: carried as the core's feature messages, the watch
// and revocations to every node, and a body of an unknown shape (another version's) refused.
import { describe, expect, it } from "vitest";
import { consoleFeature, consoleMessage, type ConsoleMessage } from "../../src/console/messages.ts";

describe("console messages", () => {
  it("round-trips through a feature message, node-wide only for watch and revoke", () => {
    const messages: ConsoleMessage[] = [
      { appId: "a", node: "n1", op: "watch" },
      { appId: "a", node: "n1", op: "count", connections: 3 },
      { appId: "a", node: "n1", op: "events", events: [], dropped: 1 },
      { appId: "", node: "n1", op: "revoke", session: "s", until: 9 },
    ];
    expect(messages.map((m) => consoleFeature(m).nodeWide)).toEqual([true, false, false, true]);
    for (const m of messages) expect(consoleMessage(consoleFeature(m))).toEqual(m);
  });

  it("refuses a body without a node or with an unknown op", () => {
    for (const body of [null, 1, {}, { node: "n", op: "reset" }, { op: "watch" }]) {
      expect(consoleMessage({ type: "feature", topic: "console", appId: "a", body })).toBeUndefined();
    }
  });
});
