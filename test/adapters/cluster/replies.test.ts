import { describe, expect, it } from "vitest";
import * as reply from "../../../src/adapters/cluster/replies.ts";

describe("script replies", () => {
  it("reads well-formed replies, with integers as numbers or strings", () => {
    expect(reply.joined([1, 1, 1, 3, 1700000000000001])).toEqual({ ok: true, occupied: true, memberAdded: true, count: 3, seq: 1700000000000001, vacatedSince: false });
    expect(reply.joined([1, 1, 0, 1, 0, 1])).toEqual({ ok: true, occupied: true, memberAdded: false, count: 1, seq: 0, vacatedSince: true });
    expect(reply.joined([0, 0, 0, "2"])).toEqual({ ok: false, occupied: false, memberAdded: false, count: 2, seq: 0, vacatedSince: false });
    expect(reply.left([1, 0, 0, "", 0])).toEqual({ vacated: true, memberRemoved: false, count: 0, seq: 0 });
    expect(reply.stats(["4", 2])).toEqual({ subscriptionCount: 4, userCount: 2 });
    expect(reply.channels(["a", 1, 0, "b", "2", "1"])).toEqual(new Map([
      ["a", { subscriptionCount: 1, userCount: 0 }],
      ["b", { subscriptionCount: 2, userCount: 1 }],
    ]));
    expect(reply.members(["17", "u1", '{"n":1}', "u2", "null"])).toEqual({ members: new Map([["u1", { n: 1 }], ["u2", null]]), seq: 17 });
    expect(reply.cached([])).toBeNull();
    expect(reply.cached(['{"event":"e","data":"d"}', 1500])).toEqual({ event: "e", data: "d", ttl: 2 });
    expect(reply.rate([0, 5, 300], 5)).toEqual({ allowed: false, remaining: 0, resetMs: 300 });
    expect(reply.flag("signIn", 1)).toBe(true);
    expect(reply.strings("nodeApps", ["a", 2])).toEqual(["a", "2"]);
    expect(reply.released([0, [["s", "presence-x", 1, 1, 0, "u1", 9], ["u", "u2"]]], true)).toEqual({
      left: 0,
      transitions: [
        { type: "left", channel: "presence-x", userId: "u1", vacated: true, memberRemoved: true, seq: 9, subscriptionCount: 0, remoteOnly: true },
        { type: "offline", userId: "u2", remoteOnly: true },
      ],
    });
  });

  it("fails with the script and the reply named when the shape is wrong", () => {
    const bad: [() => unknown, RegExp][] = [
      [() => reply.joined([1, 1]), /join script.*\[1,1\]/],
      [() => reply.joined("OK"), /join script/],
      [() => reply.left([1, "x", 0]), /leave script/],
      [() => reply.stats(null), /channelStats script.*null/],
      [() => reply.channels(["a", 1]), /channels script/],
      [() => reply.members([]), /members script/],
      [() => reply.members(["1", "u1", "{not json"]), /members script/],
      [() => reply.cached(["{}", 10]), /cacheGet script/],
      [() => reply.rate({}, 5), /rateConsume script/],
      [() => reply.flag("heartbeat", "yes"), /heartbeat script/],
      [() => reply.strings("deadNodes", [{}]), /deadNodes script/],
      [() => reply.released([0, [["x"]]], false), /release script/],
    ];
    for (const [read, message] of bad) expect(read).toThrow(message);
  });
});
