// Authorized connections (spec §4.6, checklist 37): with APP_ENABLE_USER_AUTHENTICATION a socket
// must sign in or join a private/presence channel within USER_AUTHENTICATION_TIMEOUT (1 s here),
// otherwise it gets pusher:error 4009 and close 4009.
//
// "Stays open past the deadline" is proven without sleeping: each test also opens an idle
// control socket *after* the socket under test and waits for the control to be closed. By then
// the earlier socket's deadline has passed too; a ping round trip afterwards flushes any 4009
// the server might have sent it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, connected, dataOf, pusherClient, rawClient, type Frame, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  // A one-member presence limit lets a test provoke a presence subscription that is refused.
  server = await startServer({
    env: { APP_ENABLE_USER_AUTHENTICATION: "true", USER_AUTHENTICATION_TIMEOUT: "1", APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: "1" },
  });
});
afterAll(() => server?.stop());

async function expectUnauthorizedClose(client: RawClient): Promise<void> {
  const error = await client.next(byEvent("pusher:error"));
  expect(error).toEqual({ event: "pusher:error", data: { code: 4009, message: expect.any(String) } });
  expect((await client.closed).code).toBe(4009);
}

/** Opens an idle control socket now, waits for its 4009, then checks `client` was left alone. */
async function expectSurvivesDeadline(client: RawClient): Promise<void> {
  const control = await rawClient(server);
  await expectUnauthorizedClose(control);
  client.send({ event: "pusher:ping", data: {} });
  await client.next(byEvent("pusher:pong"));
  expect(client.frames.filter((f) => f.event === "pusher:error")).toEqual([]);
  expect(client.ws.readyState).toBe(client.ws.OPEN);
}

function subscribe(client: RawClient, channel: string, auth: string, channelData?: string): void {
  client.send({ event: "pusher:subscribe", data: { channel, auth, ...(channelData ? { channel_data: channelData } : {}) } });
}

// Every test waits out the deadline, so they run concurrently; each uses its own sockets.
describe.concurrent("authorized connections", () => {
  it("closes a socket that does nothing with pusher:error 4009 and close code 4009", async () => {
    const client = await rawClient(server);
    await expectUnauthorizedClose(client);
  });

  it("keeps a socket that signed in within the timeout", async () => {
    const client = await rawClient(server);
    const userData = '{"id":"auth-user"}';
    client.send({ event: "pusher:signin", data: { auth: authToken(server, `${client.socketId}::user::${userData}`), user_data: userData } });
    await client.next(byEvent("pusher:signin_success"));
    await expectSurvivesDeadline(client);
    client.close();
  });

  it("keeps a socket that subscribed to a private channel within the timeout", async () => {
    const client = await rawClient(server);
    subscribe(client, "private-auth", authToken(server, `${client.socketId}:private-auth`));
    await client.next(byEvent("pusher_internal:subscription_succeeded", "private-auth"));
    await expectSurvivesDeadline(client);
    client.close();
  });

  it("keeps a socket that joined a presence channel within the timeout", async () => {
    const client = await rawClient(server);
    const channelData = '{"user_id":"auth-member"}';
    subscribe(client, "presence-auth", authToken(server, `${client.socketId}:presence-auth:${channelData}`), channelData);
    await client.next(byEvent("pusher_internal:subscription_succeeded", "presence-auth"));
    await expectSurvivesDeadline(client);
    client.close();
  });

  it("does not count a public subscription", async () => {
    const client = await rawClient(server);
    subscribe(client, "public-auth", "");
    await client.next(byEvent("pusher_internal:subscription_succeeded", "public-auth"));
    await expectUnauthorizedClose(client);
  });

  it("does not count a failed private subscription or a failed sign-in", async () => {
    const client = await rawClient(server);
    subscribe(client, "private-auth-bad", `${server.key}:${"0".repeat(64)}`);
    expect(dataOf(await client.next(byEvent("pusher:subscription_error", "private-auth-bad")))).toMatchObject({ type: "AuthError", status: 401 });
    client.send({ event: "pusher:signin", data: { auth: `${server.key}:${"0".repeat(64)}`, user_data: '{"id":"x"}' } });
    expect(await client.next(byEvent("pusher:error"))).toMatchObject({ data: { code: null } });
    await expectUnauthorizedClose(client);
  });

  it("does not count a presence subscription refused by the member limit", async () => {
    const first = await rawClient(server);
    const second = await rawClient(server);
    // One after the other: the server may process two sockets' subscribes in either order.
    const join = (client: RawClient, id: string) => {
      const channelData = JSON.stringify({ user_id: id });
      subscribe(client, "presence-auth-full", authToken(server, `${client.socketId}:presence-auth-full:${channelData}`), channelData);
    };
    join(first, "a");
    await first.next(byEvent("pusher_internal:subscription_succeeded", "presence-auth-full"));
    join(second, "b");
    expect(dataOf(await second.next(byEvent("pusher:subscription_error", "presence-auth-full")))).toMatchObject({ type: "LimitReached", status: 403 });
    await expectUnauthorizedClose(second);
    first.close();
  });

  it("lets a pusher-js client that signs in stay connected", async () => {
    const client = pusherClient(server, { user: { id: "auth-js" } });
    const errors: unknown[] = [];
    client.connection.bind("error", (e: unknown) => errors.push(e));
    await connected(client);
    client.signin();
    await client.user.signinDonePromise;
    expect(client.user.user_data).toEqual({ id: "auth-js" });
    const control = await rawClient(server);
    await expectUnauthorizedClose(control);
    // A pong proves the server processed our ping after the deadline without closing us.
    const pong = new Promise<void>((resolve) => client.connection.bind("message", (m: Frame) => m.event === "pusher:pong" && resolve()));
    client.send_event("pusher:ping", {});
    await pong;
    expect(errors).toEqual([]);
    expect(client.connection.state).toBe("connected");
    client.disconnect();
  });
});

describe.concurrent("without enableUserAuthentication (the default)", () => {
  it("leaves an idle socket open", async () => {
    const plain = await startServer({ env: { USER_AUTHENTICATION_TIMEOUT: "1" } });
    try {
      // Two control sockets closed one after the other on the flagged server prove that
      // more than a full timeout (plus the plain server's sweep interval) has passed.
      const idle = await rawClient(plain);
      await expectUnauthorizedClose(await rawClient(server));
      await expectUnauthorizedClose(await rawClient(server));
      idle.send({ event: "pusher:ping", data: {} });
      await idle.next(byEvent("pusher:pong"));
      expect(idle.frames.filter((f) => f.event === "pusher:error")).toEqual([]);
      idle.close();
    } finally {
      await plain.stop();
    }
  });
});
