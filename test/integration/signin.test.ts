// User sign-in (spec §4.5, §3.9, §6.8; checklist 33-36, 62): pusher:signin frames, failed
// sign-ins that keep the socket open, #server-to-user-<id> access and delivery, and
// terminate_connections, on the raw wire and through pusher-js + the pusher SDK.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, connected, dataOf, once, pusherClient, rawClient, sdk, type Frame, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { APP_ENABLE_CLIENT_MESSAGES: "true" } });
});
afterAll(() => server?.stop());

const B4_USER_DATA = '{"id":"42","user_info":{"name":"Ada"},"watchlist":["7","8"]}';
const userChannel = (id: string) => `#server-to-user-${id}`;
const isSigninResult = (f: Frame) => f.event === "pusher:signin_success" || f.event === "pusher:error";

/** Sends pusher:signin signed over `signedUserData` (defaults to what is sent) and returns the answer. */
async function signin(client: RawClient, userData: string, signedUserData = userData, auth?: string): Promise<Frame> {
  client.send({ event: "pusher:signin", data: { auth: auth ?? authToken(server, `${client.socketId}::user::${signedUserData}`), user_data: userData } });
  return client.next(isSigninResult);
}

async function signedIn(id: string): Promise<RawClient> {
  const client = await rawClient(server);
  const res = await signin(client, JSON.stringify({ id }));
  expect(res.event).toBe("pusher:signin_success");
  return client;
}

/** Subscribes to #server-to-user-<id> the way pusher-js does (auth ""), returning ack or error. */
async function subscribeUserChannel(client: RawClient, id: string): Promise<Frame> {
  const channel = userChannel(id);
  client.send({ event: "pusher:subscribe", data: { channel, auth: "" } });
  return client.next((f) => f.channel === channel && (f.event === "pusher_internal:subscription_succeeded" || f.event === "pusher:subscription_error"));
}

async function expectOpen(client: RawClient): Promise<void> {
  client.send({ event: "pusher:ping", data: {} });
  await client.next(byEvent("pusher:pong"));
  expect(client.ws.readyState).toBe(client.ws.OPEN);
}

/** A failed sign-in: pusher:error code null without channel, socket open and not signed in as 42. */
async function expectNotSignedIn(client: RawClient, res: Frame): Promise<void> {
  expect(res).toEqual({ event: "pusher:error", data: { code: null, message: expect.any(String) } });
  await expectOpen(client);
  const sub = await subscribeUserChannel(client, "42");
  expect(sub.event).toBe("pusher:subscription_error");
  expect(dataOf(sub)).toMatchObject({ type: "AuthError", status: 401 });
}

describe("pusher:signin", () => {
  it("answers a valid token (vector B4 user_data) with signin_success carrying the exact signed string", async () => {
    const client = await rawClient(server);
    const res = await signin(client, B4_USER_DATA);
    // data is an object here (not a JSON string) and user_data is byte-identical to what was signed.
    expect(res).toEqual({ event: "pusher:signin_success", data: { user_data: B4_USER_DATA } });
    expect(await subscribeUserChannel(client, "42")).toEqual({ event: "pusher_internal:subscription_succeeded", channel: userChannel("42"), data: "{}" });
    client.close();
  });

  it("accepts user_data sent as a JSON string in data, like the Java client", async () => {
    const client = await rawClient(server);
    const userData = '{"id":"42"}';
    const auth = authToken(server, `${client.socketId}::user::${userData}`);
    client.send({ event: "pusher:signin", data: JSON.stringify({ auth, user_data: userData }) });
    expect(await client.next(isSigninResult)).toEqual({ event: "pusher:signin_success", data: { user_data: userData } });
    client.close();
  });

  it("rejects a bad signature", async () => {
    const client = await rawClient(server);
    const res = await signin(client, '{"id":"42"}', '{"id":"42"}', `${server.key}:${"0".repeat(64)}`);
    await expectNotSignedIn(client, res);
    client.close();
  });

  it("rejects a token signed for another socket id", async () => {
    const client = await rawClient(server);
    const userData = '{"id":"42"}';
    const res = await signin(client, userData, userData, authToken(server, `123.456::user::${userData}`));
    await expectNotSignedIn(client, res);
    client.close();
  });

  it("rejects a correctly signed non-string id", async () => {
    const client = await rawClient(server);
    await expectNotSignedIn(client, await signin(client, '{"id":42}'));
    client.close();
  });

  it("rejects user_data re-serialized with a space (signatures cover the exact string)", async () => {
    const client = await rawClient(server);
    await expectNotSignedIn(client, await signin(client, '{"id": "42"}', '{"id":"42"}'));
    client.close();
  });

  it("rejects signing in as a different id after a first sign-in, keeping the first user", async () => {
    const client = await signedIn("42");
    const res = await signin(client, '{"id":"43"}');
    expect(res).toEqual({ event: "pusher:error", data: { code: null, message: expect.any(String) } });
    await expectOpen(client);
    expect(dataOf(await subscribeUserChannel(client, "43"))).toMatchObject({ type: "AuthError", status: 401 });
    expect((await subscribeUserChannel(client, "42")).event).toBe("pusher_internal:subscription_succeeded");
    // Signing in again as the same id is accepted.
    expect((await signin(client, '{"id":"42","user_info":{"v":2}}')).event).toBe("pusher:signin_success");
    client.close();
  });
});

describe("#server-to-user-<id>", () => {
  it("is only subscribable when signed in as that user", async () => {
    const anonymous = await rawClient(server);
    const other = await signedIn("43");
    const owner = await signedIn("42");
    for (const client of [anonymous, other]) {
      const res = await subscribeUserChannel(client, "42");
      expect(res.event).toBe("pusher:subscription_error");
      expect(dataOf(res)).toEqual({ type: "AuthError", error: expect.any(String), status: 401 });
    }
    expect((await subscribeUserChannel(owner, "42")).event).toBe("pusher_internal:subscription_succeeded");
    for (const c of [anonymous, other, owner]) c.close();
  });

  it("delivers sendToUser to every socket of that user and to nobody else", async () => {
    const id = "deliver-42";
    const s1 = await signedIn(id);
    const s2 = await signedIn(id);
    for (const s of [s1, s2]) expect((await subscribeUserChannel(s, id)).event).toBe("pusher_internal:subscription_succeeded");
    const other = await signedIn("deliver-43");
    await subscribeUserChannel(other, "deliver-43");
    // Joined a presence channel as the same id but never signed in: not that user's socket.
    const presenceOnly = await rawClient(server);
    const channelData = JSON.stringify({ user_id: id });
    presenceOnly.send({ event: "pusher:subscribe", data: { channel: "presence-x", auth: authToken(server, `${presenceOnly.socketId}:presence-x:${channelData}`), channel_data: channelData } });
    await presenceOnly.next(byEvent("pusher_internal:subscription_succeeded", "presence-x"));

    const res = await sdk(server).sendToUser(id, "notice", { text: "hi" });
    expect(res.status).toBe(200);
    const expected = { event: "notice", channel: userChannel(id), data: '{"text":"hi"}' };
    expect(await s1.next(byEvent("notice"))).toEqual(expected);
    expect(await s2.next(byEvent("notice"))).toEqual(expected);
    expect(await other.none(byEvent("notice"))).toBe(true);
    expect(await presenceOnly.none(byEvent("notice"), 50)).toBe(true);
    for (const c of [s1, s2, other, presenceOnly]) c.close();
  });

  it("rejects client events on the user channel", async () => {
    const client = await signedIn("42");
    await subscribeUserChannel(client, "42");
    client.send({ event: "client-x", channel: userChannel("42"), data: {} });
    const error = await client.next(byEvent("pusher:error"));
    expect(error).toEqual({ event: "pusher:error", channel: userChannel("42"), data: { code: null, message: expect.any(String) } });
    client.close();
  });
});

describe("terminate_connections", () => {
  it("closes every signed-in socket of the user with 4009, not presence-only sockets or other users", async () => {
    const id = "term-42";
    const s1 = await signedIn(id);
    await subscribeUserChannel(s1, id);
    const s2 = await signedIn(id); // signed in but not subscribed to its user channel: still terminated
    const other = await signedIn("term-43");
    const presenceOnly = await rawClient(server);
    const channelData = JSON.stringify({ user_id: id });
    presenceOnly.send({ event: "pusher:subscribe", data: { channel: "presence-term", auth: authToken(server, `${presenceOnly.socketId}:presence-term:${channelData}`), channel_data: channelData } });
    await presenceOnly.next(byEvent("pusher_internal:subscription_succeeded", "presence-term"));

    const res = await sdk(server).terminateUserConnections(id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    for (const s of [s1, s2]) {
      expect(await s.next(byEvent("pusher:error"))).toEqual({ event: "pusher:error", data: { code: 4009, message: expect.any(String) } });
      expect((await s.closed).code).toBe(4009);
    }
    await expectOpen(other);
    await expectOpen(presenceOnly);
    expect(other.frames.filter((f) => f.event === "pusher:error")).toEqual([]);
    expect(presenceOnly.frames.filter((f) => f.event === "pusher:error")).toEqual([]);
    other.close();
    presenceOnly.close();
  });
});

describe("pusher-js user", () => {
  it("signs in with client.signin() and receives sendToUser events on client.user", async () => {
    const client = pusherClient(server, { user: { id: "js-user", user_info: { name: "JS" } } });
    await connected(client);
    client.signin();
    await client.user.signinDonePromise;
    expect(client.user.user_data).toEqual({ id: "js-user", user_info: { name: "JS" } });
    const channel = client.user.serverToUserChannel!;
    expect(channel.name).toBe(userChannel("js-user"));
    if (!channel.subscribed) await once(channel, "pusher:subscription_succeeded");

    const got = once(client.user, "greeting");
    await sdk(server).sendToUser("js-user", "greeting", { hello: "you" });
    expect(await got).toEqual({ hello: "you" });
    client.disconnect();
  });

  it("stays disconnected after terminate_connections (4009 is fatal for pusher-js)", async () => {
    const client = pusherClient(server, { user: { id: "js-term" } });
    await connected(client);
    client.signin();
    await client.user.signinDonePromise;
    if (!client.user.serverToUserChannel!.subscribed) await once(client.user.serverToUserChannel!, "pusher:subscription_succeeded");
    const error = once<any>(client.connection, "error");
    const disconnected = once(client.connection, "disconnected");
    await sdk(server).terminateUserConnections("js-term");
    expect((await error).data).toMatchObject({ code: 4009 });
    await disconnected;
    expect(client.connection.state).toBe("disconnected");
    client.disconnect();
  });
});
