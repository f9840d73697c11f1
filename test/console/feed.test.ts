import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../../src/core/events.ts";
import { MAX_DATA_CHARS, summarize, Viewer, type ConsoleEvent } from "../../src/console/feed.ts";

const row = (i: number): ConsoleEvent => ({ time: i, kind: "connection_opened", node: "n", details: "" });

describe("Viewer", () => {
  it("keeps at most its limit of events, counts the rest, and keeps only the latest state", async () => {
    let dropped = 0;
    const v = new Viewer("app", 3, (n) => (dropped += n));
    for (let i = 0; i < 5; i++) v.push(row(i));
    v.setState({ n: 1 });
    v.setState({ n: 2 });
    v.noteClusterDrop(7);
    const batch = await v.take();
    expect(batch?.events.map((e) => e.time)).toEqual([0, 1, 2]);
    expect(batch?.dropped).toBe(2);
    expect(batch?.clusterDropped).toBe(7);
    expect(batch?.state).toEqual({ n: 2 });
    expect(dropped).toBe(2);
  });

  it("waits for something to send and ends when closed", async () => {
    const v = new Viewer("app", 3, () => {});
    const next = v.take();
    v.push(row(1));
    expect((await next)?.events).toHaveLength(1);
    const last = v.take();
    v.close();
    expect(await last).toBeUndefined();
  });
});

describe("summarize", () => {
  const base = { appId: "a", time: 5 };
  it("cuts long client event data and hides a webhook URL's credentials", () => {
    const long = summarize({ ...base, kind: "client_event", channel: "private-c", event: "client-x", data: "x".repeat(MAX_DATA_CHARS + 10), socketId: "1.2" }, "n")!;
    expect(long.details.length).toBeLessThan(MAX_DATA_CHARS + 40);
    const hook = summarize({ ...base, kind: "webhook_delivery", target: "https://user:pw@hooks.example/x", outcome: "retry", status: 500, error: "HTTP 500", events: 2, attempt: 1, ms: 12 }, "n")!;
    expect(hook.details).toContain("https://hooks.example/x");
    expect(hook.details).not.toContain("pw");
  });

  it("says how a connection closed and why a subscription was refused", () => {
    expect(summarize({ ...base, kind: "connection_closed", socketId: "1.2", code: 4009 }, "n")!.details).toBe("closed by the server with 4009");
    const refused: ServerEvent = { ...base, kind: "subscription_refused", channel: "private-x", socketId: "1.2", type: "AuthError", reason: "Invalid signature", status: 401 };
    expect(summarize(refused, "n")!.details).toBe("AuthError (401): Invalid signature");
    expect(summarize({ ...base, kind: "broadcast", channel: "c", bytes: 1, sockets: 1 }, "n")).toBeUndefined();
  });

  it("marks an occupancy or membership change decided while the cluster backend was away", () => {
    expect(summarize({ ...base, kind: "channel_vacated", channel: "c" }, "n")!.details).toBe("");
    expect(summarize({ ...base, kind: "member_removed", channel: "presence-c", userId: "u1", localOnly: true }, "n")!.details)
      .toContain("this node's view while the cluster backend is away");
  });
});
