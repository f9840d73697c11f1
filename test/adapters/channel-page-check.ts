// What every adapter's channelPage answers (the console's channel table): the first occupied
// channels by name wherever their sockets are, the server's own "#" channels left out, counts
// cluster-wide, and the total; a channel that emptied is gone from both.
import { expect } from "vitest";
import type { Adapter } from "../../src/core/adapter.ts";

export async function expectChannelPage(A: Adapter, B: Adapter, appId: string): Promise<void> {
  await A.join(appId, "private-b", "s1");
  await B.join(appId, "private-b", "s2");
  await B.join(appId, "presence-a", "s3", { userId: "u1", userInfo: null });
  await A.join(appId, "#server-to-user-u1", "s4");
  await A.join(appId, "zeta", "s5");
  await B.join(appId, "cache-c", "s6");
  const page = await B.channelPage(appId, 2);
  expect(page.total).toBe(4);
  expect([...page.channels]).toEqual([
    ["cache-c", { subscriptionCount: 1, userCount: 0 }],
    ["presence-a", { subscriptionCount: 1, userCount: 1 }],
  ]);
  await B.leave(appId, "cache-c", "s6");
  const next = await A.channelPage(appId, 10);
  expect([...next.channels.keys()]).toEqual(["presence-a", "private-b", "zeta"]);
  expect(next.channels.get("private-b")).toEqual({ subscriptionCount: 2, userCount: 0 });
  expect(next.total).toBe(3);
}
