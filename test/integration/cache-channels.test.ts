// Cache channels (spec §3.8; checklist 64, 66): right after every acknowledgement the subscriber
// gets the last event published through the HTTP API, or pusher:cache_miss. Frames are compared
// in order with a ping barrier, so "right after the ack" and "nothing else" are both checked.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { APP_ENABLE_CLIENT_MESSAGES: "true" } });
});
afterAll(() => server?.stop());

async function framesBeforePong(raw: RawClient): Promise<any[]> {
  raw.send({ event: "pusher:ping", data: {} });
  await raw.next(byEvent("pusher:pong"));
  return raw.frames.splice(0);
}

const PRESENCE_DATA = JSON.stringify({ user_id: "42", user_info: { name: "Ada" } });

/** Subscribes with whatever auth the channel type needs (presence as user 42). */
function subscribe(raw: RawClient, channel: string, target: TestServer = server): void {
  const data: Record<string, string> = { channel, auth: "" };
  if (channel.startsWith("presence-")) {
    data.auth = authToken(target, `${raw.socketId}:${channel}:${PRESENCE_DATA}`);
    data.channel_data = PRESENCE_DATA;
  } else if (channel.startsWith("private-")) {
    data.auth = authToken(target, `${raw.socketId}:${channel}`);
  }
  raw.send({ event: "pusher:subscribe", data });
}

function ack(channel: string) {
  const data = channel.startsWith("presence-")
    ? JSON.stringify({ presence: { ids: ["42"], hash: { "42": { name: "Ada" } }, count: 1 } })
    : "{}";
  return { event: "pusher_internal:subscription_succeeded", channel, data };
}

const miss = (channel: string) => ({ event: "pusher:cache_miss", channel, data: "{}" });

/** A fresh socket subscribing to `channel`: returns everything it got up to a ping barrier. */
async function freshSubscriber(channel: string, target: TestServer = server): Promise<any[]> {
  const raw = await rawClient(target);
  subscribe(raw, channel, target);
  const frames = await framesBeforePong(raw);
  raw.close();
  return frames;
}

/** Publishes exact data through the HTTP API (also used for encrypted channels, whose data is opaque). */
async function publish(channel: string, name: string, data: string, extra: Record<string, unknown> = {}, target: TestServer = server) {
  // The SDK JSON-encodes `body` itself; its typings wrongly say string.
  const body = { name, data, channels: [channel], ...extra } as unknown as string;
  const res = await sdk(target).post({ path: "/events", body });
  expect(res.status).toBe(200);
}

const KINDS = ["cache-", "private-cache-", "private-encrypted-cache-", "presence-cache-"];

describe.each(KINDS)("%s channels", (prefix) => {
  it("an empty cache yields pusher:cache_miss right after the acknowledgement", async () => {
    const channel = `${prefix}empty`;
    expect(await freshSubscriber(channel)).toEqual([ack(channel), miss(channel)]);
  });

  it("a new subscriber gets the last published event right after the acknowledgement", async () => {
    const channel = `${prefix}ticker`;
    const last = prefix.startsWith("private-encrypted-")
      ? '{"nonce":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH","ciphertext":"fVkX6UOYI5PwSnHBxhm2DHK0l+3dFKVSyBHQXT+IZ+I="}'
      : '{"price":42}';
    if (prefix.startsWith("private-encrypted-")) {
      await publish(channel, "price-updated", '{"nonce":"AAAA","ciphertext":"older"}');
      await publish(channel, "price-updated", last);
    } else {
      await sdk(server).trigger(channel, "price-created", { price: 41 });
      await sdk(server).trigger(channel, "price-updated", { price: 42 });
    }
    expect(await freshSubscriber(channel)).toEqual([ack(channel), { event: "price-updated", channel, data: last }]);
  });

  it("a duplicate subscribe replays the cached event again", async () => {
    const channel = `${prefix}dup`;
    await publish(channel, "state", '{"v":1}');
    const raw = await rawClient(server);
    subscribe(raw, channel);
    subscribe(raw, channel);
    const event = { event: "state", channel, data: '{"v":1}' };
    expect(await framesBeforePong(raw)).toEqual([ack(channel), event, ack(channel), event]);
    raw.close();
  });
});

describe("what gets cached", () => {
  it("batch events update the cache", async () => {
    const channel = "cache-batch";
    const res = await sdk(server).triggerBatch([
      { channel, name: "first", data: '{"n":1}' },
      { channel, name: "second", data: '{"n":2}' },
    ]);
    expect(res.status).toBe(200);
    expect(await freshSubscriber(channel)).toEqual([ack(channel), { event: "second", channel, data: '{"n":2}' }]);
  });

  it("client events are relayed but never cached", async () => {
    const channel = "private-cache-typing";
    const sender = await rawClient(server);
    const receiver = await rawClient(server);
    for (const raw of [sender, receiver]) {
      subscribe(raw, channel);
      expect((await framesBeforePong(raw)).map((f) => f.event)).toEqual(["pusher_internal:subscription_succeeded", "pusher:cache_miss"]);
    }
    const clientEvent = { event: "client-typing", channel, data: '{"who":"a"}' };
    sender.send(clientEvent);
    expect(await receiver.next(byEvent("client-typing"))).toEqual(clientEvent);
    expect(await freshSubscriber(channel)).toEqual([ack(channel), miss(channel)]);

    // With an API event cached, a later client event does not replace it.
    await publish(channel, "api-event", '{"from":"api"}');
    sender.send(clientEvent);
    await receiver.next(byEvent("client-typing"));
    expect(await freshSubscriber(channel)).toEqual([ack(channel), { event: "api-event", channel, data: '{"from":"api"}' }]);
    sender.close();
    receiver.close();
  });

  it("a publish excluding a socket_id still updates the cache", async () => {
    const channel = "cache-excluded";
    const excluded = await rawClient(server);
    subscribe(excluded, channel);
    expect(await framesBeforePong(excluded)).toEqual([ack(channel), miss(channel)]);
    await sdk(server).trigger(channel, "hidden", { n: 1 }, { socket_id: excluded.socketId! });
    expect(await framesBeforePong(excluded)).toEqual([]);
    expect(await freshSubscriber(channel)).toEqual([ack(channel), { event: "hidden", channel, data: '{"n":1}' }]);
    excluded.close();
  });

  it("caches per channel: publishing to one cache channel leaves another empty", async () => {
    await publish("cache-one", "e", "{}");
    expect(await freshSubscriber("cache-two")).toEqual([ack("cache-two"), miss("cache-two")]);
  });

  it("non-cache channels get neither a replay nor a cache_miss", async () => {
    await publish("plain-channel", "e", "{}");
    expect(await freshSubscriber("plain-channel")).toEqual([ack("plain-channel")]);
  });
});

describe("expiry (CACHE_TTL_SECONDS=1)", () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startServer({ env: { CACHE_TTL_SECONDS: "1" } });
  });
  afterAll(() => short?.stop());

  it("an expired entry behaves as a miss", async () => {
    const channel = "cache-expiring";
    await publish(channel, "tick", '{"n":1}', {}, short);
    const published = Date.now();
    expect(await freshSubscriber(channel, short)).toEqual([ack(channel), { event: "tick", channel, data: '{"n":1}' }]);
    // Expiry is clock-driven with nothing to await: wait out the 1 s TTL.
    await new Promise((r) => setTimeout(r, Math.max(0, published + 1200 - Date.now())));
    expect(await freshSubscriber(channel, short)).toEqual([ack(channel), miss(channel)]);
    // A new publish fills it again.
    await publish(channel, "tick", '{"n":2}', {}, short);
    expect(await freshSubscriber(channel, short)).toEqual([ack(channel), { event: "tick", channel, data: '{"n":2}' }]);
  });
});
