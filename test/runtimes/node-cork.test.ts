// Writes corked for the event-loop turn (runtimes/node-cork.ts): one cork per socket per turn, all
// uncorked together after it.
import { describe, expect, it } from "vitest";
import { corkForTurn } from "../../runtimes/node-cork.ts";

const socket = () => {
  const calls: string[] = [];
  return { calls, cork: () => void calls.push("cork"), uncork: () => void calls.push("uncork"), write: () => true };
};

describe("corkForTurn", () => {
  it("corks a socket once per turn and uncorks every corked socket after the turn", async () => {
    const a = socket();
    const b = socket();
    corkForTurn(a);
    corkForTurn(a);
    corkForTurn(b);
    expect([a.calls, b.calls]).toEqual([["cork"], ["cork"]]);
    await new Promise((resolve) => setImmediate(resolve));
    expect([a.calls, b.calls]).toEqual([["cork", "uncork"], ["cork", "uncork"]]);
    corkForTurn(a);
    expect(a.calls).toEqual(["cork", "uncork", "cork"]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.calls).toEqual(["cork", "uncork", "cork", "uncork"]);
  });
});
