// Channel queries and user termination through the official pusher SDK (spec §6.5-6.8,
// checklist 57-62): the counts must reflect real raw-WebSocket subscriptions.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { authToken, byEvent, rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import { outcome, sdkGet, sdkPost, signedRequest, subscribe, subscribed } from "../helpers/rest.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
const open: RawClient[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
});

const sub = async (channel: string, member?: { user_id: string | number; user_info?: unknown }) => {
  const client = await subscribed(server, channel, member as { user_id: string });
  open.push(client);
  return client;
};
const get = (path: string, params?: Record<string, string>) => sdkGet(sdk(server), path, params);
/** Messages of one socket are handled in order, so a pong proves earlier frames were processed. */
async function barrier(client: RawClient): Promise<void> {
  client.send({ event: "pusher:ping", data: {} });
  await client.next(byEvent("pusher:pong"));
}
async function signIn(client: RawClient, id: string): Promise<void> {
  const userData = JSON.stringify({ id });
  client.send({ event: "pusher:signin", data: { auth: authToken(server, `${client.socketId}::user::${userData}`), user_data: userData } });
  await client.next(byEvent("pusher:signin_success"));
}

describe("GET /channels", () => {
  beforeAll(async () => {
    await sub("list-a");
    await sub("list-a");
    await sub("list-b");
    await sub("presence-list-1", { user_id: "1" });
    await sub("presence-list-1", { user_id: "1" });
    await sub("presence-list-1", { user_id: "2" });
    await sub("presence-list-2", { user_id: "3" });
    // A channel that was occupied and then vacated must not be listed.
    const leaver = await sub("list-vacated");
    leaver.send({ event: "pusher:unsubscribe", data: { channel: "list-vacated" } });
    await barrier(leaver);
  });

  it("lists only occupied channels, each as {} without info", async () => {
    const res = await get("/channels", { filter_by_prefix: "list-" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ channels: { "list-a": {}, "list-b": {} } });
  });

  it("lists every occupied channel without a filter", async () => {
    const { json } = await get("/channels");
    expect(Object.keys(json.channels)).toEqual(expect.arrayContaining(["list-a", "list-b", "presence-list-1", "presence-list-2"]));
    expect(json.channels).not.toHaveProperty("list-vacated");
  });

  it("answers {channels:{}} when nothing matches the prefix", async () => {
    expect((await get("/channels", { filter_by_prefix: "nothing-here-" })).json).toEqual({ channels: {} });
  });

  it("returns user_count for a presence- prefix filter", async () => {
    const res = await get("/channels", { filter_by_prefix: "presence-list-", info: "user_count" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ channels: { "presence-list-1": { user_count: 2 }, "presence-list-2": { user_count: 1 } } });
  });

  it("rejects info=user_count without a presence- prefix filter (400)", async () => {
    for (const params of [{ info: "user_count" }, { info: "user_count", filter_by_prefix: "list-" }] as Record<string, string>[]) {
      const res = await get("/channels", params);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: expect.any(String) });
    }
  });

  it("returns subscription_count for any channel (extension)", async () => {
    expect((await get("/channels", { filter_by_prefix: "list-", info: "subscription_count" })).json)
      .toEqual({ channels: { "list-a": { subscription_count: 2 }, "list-b": { subscription_count: 1 } } });
    expect((await get("/channels", { filter_by_prefix: "presence-list-", info: "user_count,subscription_count" })).json).toEqual({
      channels: { "presence-list-1": { user_count: 2, subscription_count: 3 }, "presence-list-2": { user_count: 1, subscription_count: 1 } },
    });
  });

  it("drops a channel once its last subscriber disconnects", async () => {
    await sub("list-closing").then((c) => c.close());
    await vi.waitFor(async () => {
      expect((await get("/channels", { filter_by_prefix: "list-closing" })).json).toEqual({ channels: {} });
    });
  });

  it("hides #server-to-user- channels", async () => {
    const user = await rawClient(server);
    open.push(user);
    await signIn(user, "hidden-user");
    await subscribe(server, user, "#server-to-user-hidden-user");
    expect(Object.keys((await get("/channels")).json.channels).some((name) => name.startsWith("#"))).toBe(false);
    // "#" must be percent-encoded on the wire (the Node SDK would send it raw, starting a fragment).
    const hashPrefix = await signedRequest(server, "GET", "/channels", undefined, {
      params: { filter_by_prefix: "#" },
      mutateQuery: (q) => q.replace("filter_by_prefix=#", "filter_by_prefix=%23"),
    });
    expect(hashPrefix.status).toBe(200);
    expect(hashPrefix.json).toEqual({ channels: {} });
    // It is occupied nonetheless: the user's socket receives sendToUser.
    expect((await outcome(sdk(server).sendToUser("hidden-user", "hello", { a: 1 }))).status).toBe(200);
    expect(await user.next(byEvent("hello", "#server-to-user-hidden-user"))).toMatchObject({ data: '{"a":1}' });
  });
});

describe("GET /channels/{name}", () => {
  it("reports an unoccupied channel as {occupied:false} with requested counts as 0 (never 404)", async () => {
    expect((await get("/channels/nobody-here")).json).toEqual({ occupied: false });
    expect((await get("/channels/nobody-here", { info: "subscription_count" })).json).toEqual({ occupied: false, subscription_count: 0 });
    expect((await get("/channels/presence-nobody", { info: "user_count" })).json).toEqual({ occupied: false, user_count: 0 });
  });

  it("reports an occupied channel with only the requested attributes", async () => {
    await sub("show-a");
    await sub("show-a");
    expect((await get("/channels/show-a")).json).toEqual({ occupied: true });
    expect((await get("/channels/show-a", { info: "subscription_count" })).json).toEqual({ occupied: true, subscription_count: 2 });
    // Unknown attribute names are ignored.
    expect((await get("/channels/show-a", { info: "subscription_count,colour" })).json).toEqual({ occupied: true, subscription_count: 2 });
  });

  it("returns user_count and subscription_count on presence channels (B9), comma raw or %2C-encoded", async () => {
    await sub("presence-show", { user_id: "42", user_info: { name: "Ada" } });
    await sub("presence-show", { user_id: "42", user_info: { name: "Ada" } });
    const expected = { occupied: true, user_count: 1, subscription_count: 2 };
    expect((await get("/channels/presence-show", { info: "user_count,subscription_count" })).json).toEqual(expected);
    const php = await signedRequest(server, "GET", "/channels/presence-show", undefined, {
      params: { info: "user_count,subscription_count" },
      mutateQuery: (q) => q.replace("user_count,subscription_count", "user_count%2Csubscription_count"),
    });
    expect(php.status).toBe(200);
    expect(php.json).toEqual(expected);
  });

  it("rejects user_count on a non-presence channel (400)", async () => {
    const res = await get("/channels/show-a", { info: "user_count" });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: expect.any(String) });
  });

  it("rejects an invalid channel name (400)", async () => {
    expect((await get("/channels/bad%20name")).status).toBe(400);
    expect((await get(`/channels/${"c".repeat(201)}`)).status).toBe(400);
    expect((await get(`/channels/${"c".repeat(200)}`)).status).toBe(200);
  });

  it("returns the cache attribute on cache channels: null, then {data, ttl}", async () => {
    for (const channel of ["cache-ticker", "private-cache-ticker", "presence-cache-ticker", "private-encrypted-cache-ticker"]) {
      expect((await get(`/channels/${channel}`, { info: "cache" })).json).toEqual({ occupied: false, cache: null });
      expect((await sdkPost(sdk(server), "/events", { name: "price", data: '{"p":42}', channels: [channel] })).status).toBe(200);
      const { json } = await get(`/channels/${channel}`, { info: "cache" });
      expect(json).toEqual({ occupied: false, cache: { data: '{"p":42}', ttl: expect.any(Number) } });
      // Default cacheTtlSeconds is 1800; the value counts down from there.
      expect(json.cache.ttl).toBeGreaterThan(1700);
      expect(json.cache.ttl).toBeLessThanOrEqual(1800);
      expect(Number.isInteger(json.cache.ttl)).toBe(true);
    }
  });

  it("rejects info=cache on non-cache channels (400)", async () => {
    for (const channel of ["ticker", "private-ticker", "presence-ticker"]) {
      expect((await get(`/channels/${channel}`, { info: "cache" })).status).toBe(400);
    }
  });
});

describe("GET /channels/{name}/users", () => {
  it("lists each member once with string ids and no user_info", async () => {
    await sub("presence-users", { user_id: "7", user_info: { name: "Seven" } });
    await sub("presence-users", { user_id: "7", user_info: { name: "Seven" } });
    await sub("presence-users", { user_id: 10 });
    await sub("presence-users", { user_id: "42" });
    const res = await get("/channels/presence-users/users");
    expect(res.status).toBe(200);
    expect(Object.keys(res.json)).toEqual(["users"]);
    expect([...res.json.users].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)))
      .toEqual([{ id: "10" }, { id: "42" }, { id: "7" }]);
  });

  it("answers {users:[]} for an empty presence channel", async () => {
    expect((await get("/channels/presence-empty/users")).json).toEqual({ users: [] });
  });

  it("rejects non-presence channels (400)", async () => {
    for (const channel of ["plain", "private-x", "cache-x"]) {
      const res = await get(`/channels/${channel}/users`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: expect.any(String) });
    }
  });
});

describe("POST /users/{id}/terminate_connections", () => {
  it("returns 200 {} and closes every signed-in socket of the user with 4009", async () => {
    const first = await rawClient(server);
    const second = await rawClient(server);
    const bystander = await rawClient(server);
    const presenceOnly = await sub("presence-term", { user_id: "term-1" });
    open.push(first, second, bystander);
    await signIn(first, "term-1");
    await signIn(second, "term-1");
    await signIn(bystander, "term-2");

    const res = await outcome(sdk(server).terminateUserConnections("term-1"));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    for (const socket of [first, second]) {
      expect(await socket.next(byEvent("pusher:error"))).toMatchObject({ data: { code: 4009 } });
      expect((await socket.closed).code).toBe(4009);
    }
    // Another user and a socket that only joined presence as term-1 stay connected.
    await barrier(bystander);
    await barrier(presenceOnly);
  });

  it("returns 200 {} when the user has no sockets", async () => {
    const res = await outcome(sdk(server).terminateUserConnections("nobody"));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
  });
});
