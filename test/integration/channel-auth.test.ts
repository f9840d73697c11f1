// Authorized subscriptions (spec §3.3, §3.4, §3.7, §3.9, §4.2; checklist 17, 18, 20, 35):
// private and encrypted channel tokens, the exact subscription_error form, and server-to-user
// channels. Tokens are computed here with node:crypto, independently of the server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Pusher from "pusher-js";
import PusherServer from "pusher";
import { authToken, byEvent, connected, dataOf, once, pusherClient, rawClient, sdk, sign, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

/** Frames received before the pong to a fresh ping: everything answered to earlier frames. */
async function framesBeforePong(raw: RawClient): Promise<unknown[]> {
  raw.send({ event: "pusher:ping", data: {} });
  await raw.next(byEvent("pusher:pong"));
  return raw.frames.splice(0);
}

const subscribe = (raw: RawClient, channel: string, auth?: string, channelData?: string) =>
  raw.send({ event: "pusher:subscribe", data: { channel, ...(auth !== undefined && { auth }), ...(channelData !== undefined && { channel_data: channelData }) } });

const ack = (channel: string) => ({ event: "pusher_internal:subscription_succeeded", channel, data: "{}" });

/** Asserts exactly one frame came back: a channel-scoped AuthError 401, and the socket is still usable. */
async function expectAuthError(raw: RawClient, channel: string): Promise<void> {
  const frames = await framesBeforePong(raw);
  expect(frames).toHaveLength(1);
  const frame = frames[0] as { event: string; channel: string; data: unknown };
  expect(frame.event).toBe("pusher:subscription_error");
  expect(frame.channel).toBe(channel);
  expect(typeof frame.data).toBe("string");
  const data = JSON.parse(frame.data as string);
  expect(data).toMatchObject({ type: "AuthError", status: 401 });
  expect(typeof data.error).toBe("string");
  expect(raw.ws.readyState).toBe(raw.ws.OPEN);
}

/** After a trigger completes, a ping barrier shows whether the event reached `raw`. */
async function receivedTrigger(raw: RawClient, channel: string, event: string): Promise<boolean> {
  await sdk(server).trigger(channel, event, { n: 1 });
  return (await framesBeforePong(raw)).some((f: any) => f.event === event && f.channel === channel);
}

describe("private channels", () => {
  it("accepts a token over socket_id:channel and delivers events afterwards", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "private-chat", authToken(server, `${raw.socketId}:private-chat`));
    expect(await raw.next()).toEqual(ack("private-chat"));
    expect(await receivedTrigger(raw, "private-chat", "after-auth")).toBe(true);
    raw.close();
  });

  it("rejects a wrong signature with pusher:subscription_error AuthError 401 and does not subscribe", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "private-chat", `${server.key}:${"0".repeat(64)}`);
    await expectAuthError(raw, "private-chat");
    expect(await receivedTrigger(raw, "private-chat", "should-not-arrive")).toBe(false);
    raw.close();
  });

  it("rejects a correctly signed token whose key part is another key", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "private-chat", `other-key:${sign(server.secret, `${raw.socketId}:private-chat`)}`);
    await expectAuthError(raw, "private-chat");
    raw.close();
  });

  it("rejects a missing auth, an empty auth and an auth without a colon", async () => {
    const raw = await rawClient(server);
    for (const auth of [undefined, "", sign(server.secret, `${raw.socketId}:private-chat`)]) {
      subscribe(raw, "private-chat", auth);
      await expectAuthError(raw, "private-chat");
    }
    raw.close();
  });

  it("rejects a token signed for another channel or another socket", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "private-chat2", authToken(server, `${raw.socketId}:private-chat`));
    await expectAuthError(raw, "private-chat2");
    subscribe(raw, "private-chat", authToken(server, `1234.5678:private-chat`));
    await expectAuthError(raw, "private-chat");
    raw.close();
  });

  it("verifies a token signed with channel_data only when that channel_data is sent", async () => {
    const raw = await rawClient(server);
    const channelData = JSON.stringify({ user_id: "42", user_info: { name: "Ada" } });
    const withData = authToken(server, `${raw.socketId}:private-chat:${channelData}`);
    subscribe(raw, "private-chat", withData);
    await expectAuthError(raw, "private-chat");
    subscribe(raw, "private-chat", authToken(server, `${raw.socketId}:private-chat`), channelData);
    await expectAuthError(raw, "private-chat");
    subscribe(raw, "private-chat", withData, channelData);
    expect(await raw.next()).toEqual(ack("private-chat"));
    raw.close();
  });

  it("pusher-js subscribes through its authorizer and receives events", async () => {
    const client = pusherClient(server);
    await connected(client);
    const channel = client.subscribe("private-pusherjs");
    await once(channel, "pusher:subscription_succeeded");
    const got = once(channel, "greeting");
    await sdk(server).trigger("private-pusherjs", "greeting", { hello: "private" });
    expect(await got).toEqual({ hello: "private" });
    client.disconnect();
  });

  it("pusher-js surfaces a server-side AuthError on the channel", async () => {
    // The authorizer signs for a different socket, so only the server can catch it.
    const client = pusherClient(server, {
      options: {
        channelAuthorization: {
          customHandler: (p: { channelName: string }, cb: (e: Error | null, a: unknown) => void) =>
            cb(null, { auth: authToken(server, `1.1:${p.channelName}`) }),
        },
      },
    });
    await connected(client);
    const channel = client.subscribe("private-forged");
    const error = await once(channel, "pusher:subscription_error");
    expect(error).toMatchObject({ type: "AuthError", status: 401 });
    expect(channel.subscribed).toBe(false);
    client.disconnect();
  });
});

describe("private-encrypted channels", () => {
  // Vector B3: master key bytes 0x00..0x1f; the server never sees it.
  const masterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const ciphertext = '{"nonce":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH","ciphertext":"fVkX6UOYI5PwSnHBxhm2DHK0l+3dFKVSyBHQXT+IZ+I="}';
  const backend = () => new PusherServer({
    appId: server.appId, key: server.key, secret: server.secret, host: server.host, port: String(server.port),
    useTLS: false, encryptionMasterKeyBase64: masterKey,
  });

  it("authorizes like a private channel and relays event data verbatim", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "private-encrypted-chat", "wrong-key:abc");
    await expectAuthError(raw, "private-encrypted-chat");
    subscribe(raw, "private-encrypted-chat", authToken(server, `${raw.socketId}:private-encrypted-chat`));
    expect(await raw.next()).toEqual(ack("private-encrypted-chat"));
    // Posted as-is (the SDK's trigger would encrypt); the SDK JSON-encodes `body`, its typings say string.
    const body = { name: "secret", data: ciphertext, channels: ["private-encrypted-chat"] } as unknown as string;
    const res = await sdk(server).post({ path: "/events", body });
    expect(res.status).toBe(200);
    expect(await raw.next(byEvent("secret"))).toEqual({ event: "secret", channel: "private-encrypted-chat", data: ciphertext });
    raw.close();
  });

  it("pusher-js decrypts an event the SDK encrypted end to end", async () => {
    const app = backend();
    const client = new Pusher(server.key, {
      wsHost: server.host, wsPort: server.port, forceTLS: false, enabledTransports: ["ws"], disableStats: true, cluster: "",
      channelAuthorization: {
        customHandler: (p: { socketId: string; channelName: string }, cb: (e: Error | null, a: any) => void) =>
          cb(null, app.authorizeChannel(p.socketId, p.channelName)),
      },
    } as any);
    await connected(client);
    const channel = client.subscribe("private-encrypted-e2e");
    await once(channel, "pusher:subscription_succeeded");
    const got = once(channel, "secret");
    await app.trigger("private-encrypted-e2e", "secret", { message: "hi" });
    expect(await got).toEqual({ message: "hi" });
    client.disconnect();
  });
});

describe("server-to-user channels", () => {
  it("#server-to-user-42 without sign-in → AuthError 401", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "#server-to-user-42", "");
    await expectAuthError(raw, "#server-to-user-42");
    raw.close();
  });

  it("#server-to-user-42 while signed in as someone else → AuthError 401; as 42 → acknowledged", async () => {
    const raw = await rawClient(server);
    const userData = JSON.stringify({ id: "7" });
    raw.send({ event: "pusher:signin", data: { auth: authToken(server, `${raw.socketId}::user::${userData}`), user_data: userData } });
    expect(dataOf(await raw.next(byEvent("pusher:signin_success"))).user_data).toBe(userData);
    subscribe(raw, "#server-to-user-42", "");
    await expectAuthError(raw, "#server-to-user-42");
    subscribe(raw, "#server-to-user-7", "");
    expect(await raw.next()).toEqual(ack("#server-to-user-7"));
    raw.close();
  });
});
