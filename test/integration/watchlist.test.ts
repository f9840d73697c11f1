// Watchlist events (spec §4.7, checklist 38-40): the initial status message on sign-in,
// online/offline transitions on a user's first and last signed-in socket, the 100-id limit,
// and pusher-js's client.user.watchlist API. Each test uses its own user ids so the shared
// server's online state from one test cannot leak into another.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, connected, dataOf, once, pusherClient, rawClient, type Frame, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { APP_ENABLE_WATCHLIST_EVENTS: "true" } });
});
afterAll(() => server?.stop());

const WATCHLIST = "pusher_internal:watchlist_events";
const isWatchlist = byEvent(WATCHLIST);

async function signedIn(id: string, watchlist?: string[], s = server): Promise<RawClient> {
  const client = await rawClient(s);
  const userData = JSON.stringify(watchlist ? { id, watchlist } : { id });
  client.send({ event: "pusher:signin", data: { auth: authToken(s, `${client.socketId}::user::${userData}`), user_data: userData } });
  await client.next(byEvent("pusher:signin_success"));
  return client;
}

/** The watchlist frame's data is a JSON string wrapping {events:[...]}. */
function eventsOf(frame: Frame): unknown {
  expect(frame.event).toBe(WATCHLIST);
  expect(frame.channel).toBeUndefined();
  expect(typeof frame.data).toBe("string");
  return dataOf(frame).events;
}

describe("watchlist events", () => {
  it("reports the watchlist's current status once after sign-in (vector B4 watchlist)", async () => {
    const seven = await signedIn("7");
    const watcher = await signedIn("42", ["7", "8"]);
    expect(eventsOf(await watcher.next(isWatchlist))).toEqual([
      { name: "online", user_ids: ["7"] },
      { name: "offline", user_ids: ["8"] },
    ]);
    expect(await watcher.none(isWatchlist)).toBe(true);
    // The watched user learns nothing about its watcher.
    expect(await seven.none(isWatchlist, 50)).toBe(true);
    seven.close();
    watcher.close();
  });

  it("omits an empty entry and sends nothing for an empty watchlist", async () => {
    const watcher = await signedIn("w-all-offline", ["nobody-1", "nobody-2"]);
    expect(eventsOf(await watcher.next(isWatchlist))).toEqual([{ name: "offline", user_ids: ["nobody-1", "nobody-2"] }]);
    const noList = await signedIn("w-empty", []);
    expect(await noList.none(isWatchlist)).toBe(true);
    watcher.close();
    noList.close();
  });

  it("announces a user's first signed-in socket as online and its last one closing as offline", async () => {
    const watcher = await signedIn("w-watcher", ["w-8"]);
    expect(eventsOf(await watcher.next(isWatchlist))).toEqual([{ name: "offline", user_ids: ["w-8"] }]);
    const bystander = await signedIn("w-bystander");

    const first = await signedIn("w-8");
    expect(await watcher.next(isWatchlist)).toEqual({ event: WATCHLIST, data: '{"events":[{"name":"online","user_ids":["w-8"]}]}' });

    // A second socket of an already-online user changes nothing; neither does closing one of two.
    const second = await signedIn("w-8");
    expect(await watcher.none(isWatchlist)).toBe(true);
    first.close();
    expect(await watcher.none(isWatchlist)).toBe(true);

    second.close();
    expect(await watcher.next(isWatchlist)).toEqual({ event: WATCHLIST, data: '{"events":[{"name":"offline","user_ids":["w-8"]}]}' });
    // Only watchers of w-8 are told.
    expect(await bystander.none(isWatchlist, 50)).toBe(true);
    watcher.close();
    bystander.close();
  });

  it("does not count a presence membership without sign-in as online", async () => {
    const watcher = await signedIn("w-p-watcher", ["w-p-user"]);
    await watcher.next(isWatchlist);
    const member = await rawClient(server);
    const channelData = '{"user_id":"w-p-user"}';
    member.send({ event: "pusher:subscribe", data: { channel: "presence-w", auth: authToken(server, `${member.socketId}:presence-w:${channelData}`), channel_data: channelData } });
    await member.next(byEvent("pusher_internal:subscription_succeeded", "presence-w"));
    expect(await watcher.none(isWatchlist)).toBe(true);
    member.close();
    watcher.close();
  });

  it("signs in with a watchlist of 101 ids, adds pusher:error 4302 and uses only the first 100", async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `w-many-${i}`);
    const client = await signedIn("w-many-watcher", ids);
    const error = await client.next(byEvent("pusher:error"));
    expect(error).toEqual({ event: "pusher:error", data: { code: 4302, message: expect.any(String) } });
    expect(eventsOf(await client.next(isWatchlist))).toEqual([{ name: "offline", user_ids: ids.slice(0, 100) }]);

    // The 101st id is not watched; the 100th is.
    const dropped = await signedIn(ids[100]!);
    expect(await client.none(isWatchlist)).toBe(true);
    const kept = await signedIn(ids[99]!);
    expect(eventsOf(await client.next(isWatchlist))).toEqual([{ name: "online", user_ids: [ids[99]] }]);

    // Still open and signed in.
    client.send({ event: "pusher:ping", data: {} });
    await client.next(byEvent("pusher:pong"));
    for (const c of [client, dropped, kept]) c.close();
  });

  it("delivers online and offline events to pusher-js client.user.watchlist", async () => {
    const watcher = pusherClient(server, { user: { id: "js-watcher", watchlist: ["js-friend"] } });
    await connected(watcher);
    const initial = once<any>(watcher.user.watchlist, "offline");
    watcher.signin();
    expect(await initial).toEqual({ name: "offline", user_ids: ["js-friend"] });

    const online = once<any>(watcher.user.watchlist, "online");
    const friend = pusherClient(server, { user: { id: "js-friend" } });
    await connected(friend);
    friend.signin();
    expect(await online).toEqual({ name: "online", user_ids: ["js-friend"] });

    const offline = once<any>(watcher.user.watchlist, "offline");
    friend.disconnect();
    expect(await offline).toEqual({ name: "offline", user_ids: ["js-friend"] });
    watcher.disconnect();
  });
});

describe("watchlist events disabled (the default)", () => {
  it("signs in but sends no watchlist events", async () => {
    const plain = await startServer();
    try {
      const friend = await signedIn("d-friend", undefined, plain);
      const watcher = await signedIn("d-watcher", ["d-friend", "d-other"], plain);
      expect(await watcher.none(isWatchlist)).toBe(true);
      friend.close();
      expect(await watcher.none(isWatchlist)).toBe(true);
      watcher.close();
    } finally {
      await plain.stop();
    }
  });
});
