import { describe, expect, it } from "vitest";
import * as reply from "../../../src/adapters/cluster/replies.ts";

describe("script replies", () => {
  it("reads well-formed replies, with integers as numbers or strings", () => {
    expect(reply.joined([1, 1, 1, 3, 1700000000000001])).toEqual({
      ok: true, occupied: true, memberAdded: true, count: 3, seq: 1700000000000001, vacatedSince: false, countSeq: 0,
    });
    expect(reply.joined([1, 1, 0, 1, 0, 1, "1700000000000002"])).toEqual({
      ok: true, occupied: true, memberAdded: false, count: 1, seq: 0, vacatedSince: true, countSeq: 1700000000000002,
    });
    expect(reply.joined([0, 0, 0, "2"])).toEqual({ ok: false, occupied: false, memberAdded: false, count: 2, seq: 0, vacatedSince: false, countSeq: 0 });
    expect(reply.left([1, 0, 0, "", 0])).toEqual({ vacated: true, memberRemoved: false, count: 0, seq: 0, countSeq: 0 });
    expect(reply.left([0, 0, 2, "", 0, 41])).toEqual({ vacated: false, memberRemoved: false, count: 2, seq: 0, countSeq: 41 });
    expect(reply.stats(["4", 2])).toEqual({ subscriptionCount: 4, userCount: 2 });
    expect(reply.counts(["a", "b"], [1, 0, "2", "1"])).toEqual([{ subscriptionCount: 1, userCount: 0 }, { subscriptionCount: 2, userCount: 1 }]);
    expect(reply.page("channelsPage", ["17", "a", "b"])).toEqual({ cursor: "17", entries: ["a", "b"] });
    expect(reply.page("channelsPage", [0])).toEqual({ cursor: "0", entries: [] });
    expect(reply.membersPage(["17", "2", "u1", '{"n":1}', "u2", "null"])).toEqual({ seq: 17, next: "2", members: [["u1", { n: 1 }], ["u2", null]] });
    expect(reply.membersPage(["17", ""])).toEqual({ seq: 17, next: "", members: [] });
    expect(reply.onlineFlags([1, "0"], 2)).toEqual([true, false]);
    expect(reply.cached([])).toBeNull();
    expect(reply.cached(['{"event":"e","data":"d"}', 1500])).toEqual({ event: "e", data: "d", ttl: 2 });
    expect(reply.rate([0, 5, 300], 5)).toEqual({ allowed: false, remaining: 0, resetMs: 300 });
    expect(reply.flag("signIn", 1)).toBe(true);
    expect(reply.strings("nodeApps", ["a", 2])).toEqual(["a", "2"]);
    expect(reply.released([0, [["s", "presence-x", 1, 1, 0, "u1", 9, 9], ["s", "x", 0, 0, 3, "", 0, 12], ["u", "u2"]]])).toEqual({
      left: 0,
      transitions: [
        { type: "left", channel: "presence-x", userId: "u1", vacated: true, memberRemoved: true, seq: 9, subscriptionCount: 0, countSeq: 9 },
        { type: "left", channel: "x", userId: undefined, vacated: false, memberRemoved: false, seq: 0, subscriptionCount: 3, countSeq: 12 },
        { type: "offline", userId: "u2" },
      ],
    });
  });

  it("fails with the script and the reply named when the shape is wrong", () => {
    const bad: [() => unknown, RegExp][] = [
      [() => reply.joined([1, 1]), /join script.*\[1,1\]/],
      [() => reply.joined("OK"), /join script/],
      [() => reply.left([1, "x", 0]), /leave script/],
      [() => reply.stats(null), /channelStats script.*null/],
      [() => reply.counts(["a", "b"], [1, 0]), /channelCounts script/],
      [() => reply.page("channelsPage", []), /channelsPage script/],
      [() => reply.membersPage([]), /membersPage script/],
      [() => reply.membersPage(["1", "", "u1"]), /membersPage script/],
      [() => reply.membersPage(["1", "", "u1", "{not json"]), /membersPage script/],
      [() => reply.onlineFlags([1], 2), /onlineUsers script/],
      [() => reply.cached(["{}", 10]), /cacheGet script/],
      [() => reply.rate({}, 5), /rateConsume script/],
      [() => reply.flag("heartbeat", "yes"), /heartbeat script/],
      [() => reply.strings("deadNodes", [{}]), /deadNodes script/],
      [() => reply.released([0, [["x"]]]), /release script/],
    ];
    for (const [read, message] of bad) expect(read).toThrow(message);
  });
});
