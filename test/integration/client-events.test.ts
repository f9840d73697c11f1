// Client events (spec §5, checklist 41-46): which channels relay them, the exact relayed frame,
// no echo to the sender, user_id on presence channels only, size/name limits and the 10/s
// rate limit — on the raw wire, then pusher-js channel.trigger end to end.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, connected, dataOf, once, pusherClient, rawClient, type Frame, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { APP_ENABLE_CLIENT_MESSAGES: "true" } });
});
afterAll(() => server?.stop());

const isClientEvent = (f: Frame) => f.event.startsWith("client-");
const errorOn = (channel: string) => (f: Frame) => f.event === "pusher:error" && f.channel === channel;

/** Subscribes (signing private/presence channels like an app's auth endpoint) and waits for the ack. */
async function subscribed(s: TestServer, channel: string, userId?: string, client?: RawClient): Promise<RawClient> {
  const c = client ?? (await rawClient(s));
  const channelData = channel.startsWith("presence-") ? JSON.stringify({ user_id: userId ?? "anon" }) : undefined;
  const needsAuth = channel.startsWith("private-") || channel.startsWith("presence-");
  const signed = `${c.socketId}:${channel}${channelData ? `:${channelData}` : ""}`;
  c.send({ event: "pusher:subscribe", data: { channel, auth: needsAuth ? authToken(s, signed) : "", ...(channelData ? { channel_data: channelData } : {}) } });
  await c.next(byEvent("pusher_internal:subscription_succeeded", channel));
  return c;
}

/** Sends a ping and waits for the pong: everything sent before it has been processed. */
async function roundTrip(client: RawClient): Promise<void> {
  client.send({ event: "pusher:ping", data: {} });
  await client.next(byEvent("pusher:pong"));
}

/** Expects exactly one pusher:error with code null on `channel`, and that `receiver` got nothing. */
async function expectRejected(sender: RawClient, receiver: RawClient, channel: string): Promise<void> {
  const error = await sender.next(errorOn(channel));
  expect(error).toEqual({ event: "pusher:error", channel, data: { code: null, message: expect.any(String) } });
  expect(await receiver.none(isClientEvent)).toBe(true);
  await roundTrip(sender); // still open
}

describe("client events are rejected", () => {
  it("when the app does not enable client messages (the default)", async () => {
    const off = await startServer();
    try {
      const a = await subscribed(off, "private-off");
      const b = await subscribed(off, "private-off");
      a.send({ event: "client-hi", channel: "private-off", data: { n: 1 } });
      await expectRejected(a, b, "private-off");
      a.close();
      b.close();
    } finally {
      await off.stop();
    }
  });

  for (const channel of ["public-chat", "cache-chat"]) {
    it(`on ${channel.split("-")[0]} channels`, async () => {
      const a = await subscribed(server, channel);
      const b = await subscribed(server, channel);
      a.send({ event: "client-hi", channel, data: { n: 1 } });
      await expectRejected(a, b, channel);
      // A cache channel never caches client events: a new subscriber still gets a cache miss.
      if (channel.startsWith("cache-")) {
        const c = await subscribed(server, channel);
        await c.next(byEvent("pusher:cache_miss", channel));
        c.close();
      }
      a.close();
      b.close();
    });
  }

  it("from a socket not subscribed to the channel", async () => {
    const outsider = await rawClient(server);
    const member = await subscribed(server, "private-members-only");
    outsider.send({ event: "client-hi", channel: "private-members-only", data: {} });
    await expectRejected(outsider, member, "private-members-only");
    outsider.close();
    member.close();
  });

  it("without a channel", async () => {
    const a = await rawClient(server);
    a.send({ event: "client-hi", data: {} });
    const error = await a.next(byEvent("pusher:error"));
    expect(error).toEqual({ event: "pusher:error", data: { code: null, message: expect.any(String) } });
    await roundTrip(a);
    a.close();
  });

  it("with an event name over 200 characters", async () => {
    const a = await subscribed(server, "private-long-name");
    const b = await subscribed(server, "private-long-name");
    a.send({ event: `client-${"x".repeat(194)}`, channel: "private-long-name", data: {} }); // 201 chars
    await expectRejected(a, b, "private-long-name");
    // 200 characters is still fine.
    const name = `client-${"x".repeat(193)}`;
    a.send({ event: name, channel: "private-long-name", data: {} });
    expect((await b.next(isClientEvent)).event).toBe(name);
    a.close();
    b.close();
  });

  it("with a payload over 10 KB, while exactly 10 240 bytes is relayed", async () => {
    const a = await subscribed(server, "private-big");
    const b = await subscribed(server, "private-big");
    a.send({ event: "client-big", channel: "private-big", data: "x".repeat(10_241) });
    await expectRejected(a, b, "private-big");
    a.send({ event: "client-big", channel: "private-big", data: "y".repeat(10_240) });
    expect((await b.next(isClientEvent)).data).toBe("y".repeat(10_240));
    a.close();
    b.close();
  });
});

describe("client events are relayed", () => {
  it("on private channels: exact frame, no user_id, data serialized to a string, no echo", async () => {
    const a = await subscribed(server, "private-chat");
    const b = await subscribed(server, "private-chat");
    a.send({ event: "client-typing", channel: "private-chat", data: { typing: true } });
    const got = await b.next(isClientEvent);
    expect(got).toEqual({ event: "client-typing", channel: "private-chat", data: '{"typing":true}' });
    expect("user_id" in got).toBe(false);
    expect(await a.none(isClientEvent)).toBe(true);
    a.close();
    b.close();
  });

  it("on presence channels with the sender's user_id, and to the sender's other sockets", async () => {
    const ch = "presence-chat";
    const a1 = await subscribed(server, ch, "42");
    const a2 = await subscribed(server, ch, "42");
    const b = await subscribed(server, ch, "7");
    a1.send({ event: "client-typing", channel: ch, data: { typing: true } });
    const expected = { event: "client-typing", channel: ch, data: '{"typing":true}', user_id: "42" };
    expect(await b.next(isClientEvent)).toEqual(expected);
    expect(await a2.next(isClientEvent)).toEqual(expected);
    expect(await a1.none(isClientEvent)).toBe(true);
    for (const c of [a1, a2, b]) c.close();
  });

  it("on private-encrypted channels, forwarding a string payload untouched", async () => {
    const ch = "private-encrypted-chat";
    const a = await subscribed(server, ch);
    const b = await subscribed(server, ch);
    // Vector B3's ciphertext: the server must relay it as-is and never inspect it.
    const data = '{"nonce":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH","ciphertext":"fVkX6UOYI5PwSnHBxhm2DHK0l+3dFKVSyBHQXT+IZ+I="}';
    a.send({ event: "client-secret", channel: ch, data });
    expect(await b.next(isClientEvent)).toEqual({ event: "client-secret", channel: ch, data });
    expect(await a.none(isClientEvent)).toBe(true);
    a.close();
    b.close();
  });

  it("to nobody on the channel once the receiver unsubscribed", async () => {
    const a = await subscribed(server, "private-unsub");
    const b = await subscribed(server, "private-unsub");
    b.send({ event: "pusher:unsubscribe", data: { channel: "private-unsub" } });
    await roundTrip(b);
    a.send({ event: "client-hi", channel: "private-unsub", data: {} });
    expect(await b.none(isClientEvent)).toBe(true);
    // The sender is still subscribed, so this is not an error.
    expect(await a.none(byEvent("pusher:error"), 50)).toBe(true);
    a.close();
    b.close();
  });
});

describe("client event rate limit (default 10 per second)", () => {
  it("drops the 11th event within a second with pusher:error 4301 and keeps the socket open", async () => {
    const ch = "private-rate";
    const a = await subscribed(server, ch);
    const b = await subscribed(server, ch);
    // 11 frames back to back: all arrive well within one second.
    for (let n = 1; n <= 11; n++) a.send({ event: "client-n", channel: ch, data: { n } });
    const error = await a.next(errorOn(ch));
    expect(error).toEqual({ event: "pusher:error", channel: ch, data: { code: 4301, message: expect.any(String) } });
    const got: number[] = [];
    for (let i = 0; i < 10; i++) got.push(dataOf(await b.next(isClientEvent)).n);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await b.none(isClientEvent)).toBe(true);
    await roundTrip(a);
    expect(a.ws.readyState).toBe(a.ws.OPEN);
    a.close();
    b.close();
  });

  it("counts per socket: another socket of the same channel is not limited", async () => {
    const ch = "private-rate-per-socket";
    const a = await subscribed(server, ch);
    const b = await subscribed(server, ch);
    const c = await subscribed(server, ch);
    for (let n = 1; n <= 10; n++) a.send({ event: "client-n", channel: ch, data: { n } });
    for (let n = 1; n <= 10; n++) b.send({ event: "client-m", channel: ch, data: { n } });
    for (let i = 0; i < 20; i++) await c.next(isClientEvent);
    expect(await a.none(errorOn(ch), 50)).toBe(true);
    expect(await b.none(errorOn(ch), 50)).toBe(true);
    for (const s of [a, b, c]) s.close();
  });
});

describe("pusher-js channel.trigger", () => {
  it("delivers a client event between two pusher-js clients on a private channel", async () => {
    const alice = pusherClient(server);
    const bob = pusherClient(server);
    await Promise.all([connected(alice), connected(bob)]);
    const aliceChannel = alice.subscribe("private-js");
    const bobChannel = bob.subscribe("private-js");
    await Promise.all([once(aliceChannel, "pusher:subscription_succeeded"), once(bobChannel, "pusher:subscription_succeeded")]);
    const received = once(bobChannel, "client-hello");
    expect(aliceChannel.trigger("client-hello", { from: "alice" })).toBe(true);
    expect(await received).toEqual({ from: "alice" });
    alice.disconnect();
    bob.disconnect();
  });

  it("passes the sender's user_id as metadata on a presence channel", async () => {
    const alice = pusherClient(server, { presence: { user_id: "alice" } });
    const bob = pusherClient(server, { presence: { user_id: "bob" } });
    const aliceChannel = alice.subscribe("presence-js-chat");
    const bobChannel = bob.subscribe("presence-js-chat");
    await Promise.all([once(aliceChannel, "pusher:subscription_succeeded"), once(bobChannel, "pusher:subscription_succeeded")]);
    const received = new Promise<[unknown, any]>((resolve) => bobChannel.bind("client-wave", (data: unknown, meta: any) => resolve([data, meta])));
    aliceChannel.trigger("client-wave", { hand: "right" });
    const [data, meta] = await received;
    expect(data).toEqual({ hand: "right" });
    expect(meta).toEqual({ user_id: "alice" });
    alice.disconnect();
    bob.disconnect();
  });
});
