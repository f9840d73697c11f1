// Public subscriptions, channel names, duplicate subscribe, unsubscribe and subscription counting
// (spec §2.2, §3.1-3.5, §3.10; checklist 16, 19, 31, 32). Authorized channels: channel-auth.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, connected, dataOf, once, pusherClient, rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import { startServer, TOPOLOGY, type TestServer } from "../helpers/server.ts";

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

const subscribe = (raw: RawClient, channel: string, auth = "") => raw.send({ event: "pusher:subscribe", data: { channel, auth } });
const unsubscribe = (raw: RawClient, channel: string) => raw.send({ event: "pusher:unsubscribe", data: { channel } });
const ack = (channel: string) => ({ event: "pusher_internal:subscription_succeeded", channel, data: "{}" });

/** Behind a cluster, how long a socket on another node may take to get an event after the API's 200. */
const BUS_SLACK_MS = 500;

/**
 * Triggers through the SDK and returns the frames `raw` got for it (ping barrier after the HTTP
 * call). Behind a cluster a 200 means the bus took the event, and a socket on another node gets it
 * a moment later than the ping's answer: nothing by then is looked at again after BUS_SLACK_MS.
 */
async function deliveredTo(raw: RawClient, channel: string, event: string, target: TestServer = server): Promise<unknown[]> {
  const res = await sdk(target).trigger(channel, event, { n: 1 });
  expect(res.status).toBe(200);
  const got = async () => (await framesBeforePong(raw)).filter((f: any) => f.event === event);
  const first = await got();
  if (first.length > 0 || TOPOLOGY === undefined) return first;
  await new Promise((resolve) => setTimeout(resolve, BUS_SLACK_MS));
  return got();
}

describe("public channels", () => {
  it('subscribe with auth "" → subscription_succeeded with data "{}" and nothing else', async () => {
    const raw = await rawClient(server);
    subscribe(raw, "my-channel");
    expect(await framesBeforePong(raw)).toEqual([ack("my-channel")]);
    expect(await deliveredTo(raw, "my-channel", "my-event")).toEqual([{ event: "my-event", channel: "my-channel", data: '{"n":1}' }]);
    raw.close();
  });

  it("accepts subscribe data as a JSON string, and ignores an auth on public channels", async () => {
    const raw = await rawClient(server);
    raw.send({ event: "pusher:subscribe", data: JSON.stringify({ channel: "string-data" }) });
    expect(await raw.next()).toEqual(ack("string-data"));
    subscribe(raw, "with-auth", "whatever:signature");
    expect(await raw.next()).toEqual(ack("with-auth"));
    raw.close();
  });

  it("a subscribe without a channel name → pusher:error code null, socket stays open", async () => {
    const raw = await rawClient(server);
    raw.send({ event: "pusher:subscribe", data: {} });
    const frames = await framesBeforePong(raw);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ event: "pusher:error", data: { code: null } });
    raw.close();
  });

  it("pusher-js subscribes to a public channel and receives events", async () => {
    const client = pusherClient(server);
    await connected(client);
    const channel = client.subscribe("pusherjs-public");
    await once(channel, "pusher:subscription_succeeded");
    const got = once(channel, "news");
    await sdk(server).trigger("pusherjs-public", "news", { headline: "hi" });
    expect(await got).toEqual({ headline: "hi" });
    client.disconnect();
  });
});

describe("channel names", () => {
  const invalid = ["bad channel", "a:b", "a#b", "a/b", "caf\u00e9", "x".repeat(201), "private-" + "x".repeat(193), "#server-to-user-", "#server-to-user-a b"];
  for (const name of invalid) {
    it(`${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…(${name.length})` : name)} → InvalidChannel 400`, async () => {
      const raw = await rawClient(server);
      subscribe(raw, name);
      const frames = await framesBeforePong(raw);
      expect(frames).toHaveLength(1);
      expect(frames[0]).toMatchObject({ event: "pusher:subscription_error", channel: name });
      expect(dataOf(frames[0] as any)).toMatchObject({ type: "InvalidChannel", status: 400 });
      raw.close();
    });
  }

  it("accepts a 200-character name using every allowed character", async () => {
    const name = "AZaz09_-=@,.;".padEnd(200, "x");
    const raw = await rawClient(server);
    subscribe(raw, name);
    expect(await raw.next()).toEqual(ack(name));
    raw.close();
  });
});

describe("duplicate subscribe and unsubscribe", () => {
  it("re-acknowledges a duplicate subscribe and still delivers each event once", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "dup-channel");
    subscribe(raw, "dup-channel");
    expect(await framesBeforePong(raw)).toEqual([ack("dup-channel"), ack("dup-channel")]);
    expect(await deliveredTo(raw, "dup-channel", "once")).toHaveLength(1);
    raw.close();
  });

  it("unsubscribing from a channel the socket is not in produces no frame", async () => {
    const raw = await rawClient(server);
    unsubscribe(raw, "never-subscribed");
    expect(await framesBeforePong(raw)).toEqual([]);
    raw.close();
  });

  it("unsubscribe stops delivery to that socket only, silently", async () => {
    const a = await rawClient(server);
    const b = await rawClient(server);
    for (const raw of [a, b]) {
      subscribe(raw, "leave-channel");
      expect(await raw.next()).toEqual(ack("leave-channel"));
    }
    unsubscribe(a, "leave-channel");
    expect(await framesBeforePong(a)).toEqual([]);
    expect(await deliveredTo(a, "leave-channel", "after-leave")).toEqual([]);
    expect(await framesBeforePong(b)).toEqual([{ event: "after-leave", channel: "leave-channel", data: '{"n":1}' }]);
    // Subscribing again works after leaving.
    subscribe(a, "leave-channel");
    expect(await a.next()).toEqual(ack("leave-channel"));
    expect(await deliveredTo(a, "leave-channel", "back")).toHaveLength(1);
    a.close();
    b.close();
  });

  it("sends no subscription_count when the app has not enabled it", async () => {
    const raw = await rawClient(server);
    subscribe(raw, "uncounted");
    expect(await framesBeforePong(raw)).toEqual([ack("uncounted")]);
    raw.close();
  });
});

describe("subscription counting (APP_ENABLE_SUBSCRIPTION_COUNT=true)", () => {
  let counting: TestServer;
  beforeAll(async () => {
    counting = await startServer({ env: { APP_ENABLE_SUBSCRIPTION_COUNT: "true" } });
  });
  afterAll(() => counting?.stop());

  const count = (channel: string, n: number) => ({
    event: "pusher_internal:subscription_count", channel, data: JSON.stringify({ subscription_count: n }),
  });

  /**
   * The next subscription_count `raw` gets on `channel`, then every other frame before a pong. The
   * count comes from another socket's (un)subscribe: behind a cluster that socket may be on another
   * node, whose broadcast reaches this socket's node over the bus, after a ping sent at once would
   * be answered. Whatever else arrived (a stale or repeated count) still shows in the result.
   */
  async function countThenRest(raw: RawClient, channel: string): Promise<unknown[]> {
    const counted = await raw.next(byEvent("pusher_internal:subscription_count", channel));
    return [counted, ...(await framesBeforePong(raw))];
  }

  it("broadcasts the count to every subscriber on subscribe and unsubscribe", async () => {
    const a = await rawClient(counting);
    const b = await rawClient(counting);
    subscribe(a, "counted");
    expect(await framesBeforePong(a)).toEqual([ack("counted"), count("counted", 1)]);
    subscribe(b, "counted");
    expect(await framesBeforePong(b)).toEqual([ack("counted"), count("counted", 2)]);
    expect(await countThenRest(a, "counted")).toEqual([count("counted", 2)]);
    unsubscribe(b, "counted");
    expect(await framesBeforePong(b)).toEqual([]);
    expect(await countThenRest(a, "counted")).toEqual([count("counted", 1)]);
    // A closing socket counts like an unsubscribe.
    subscribe(b, "counted");
    expect(await framesBeforePong(b)).toEqual([ack("counted"), count("counted", 2)]);
    expect(await countThenRest(a, "counted")).toEqual([count("counted", 2)]);
    b.close();
    expect(await a.next(byEvent("pusher_internal:subscription_count", "counted"))).toEqual(count("counted", 1));
    a.close();
  });

  it("does not count presence channels", async () => {
    const raw = await rawClient(counting);
    const channelData = JSON.stringify({ user_id: "1" });
    raw.send({
      event: "pusher:subscribe",
      data: { channel: "presence-uncounted", auth: authToken(counting, `${raw.socketId}:presence-uncounted:${channelData}`), channel_data: channelData },
    });
    const frames = await framesBeforePong(raw);
    expect(frames.map((f: any) => f.event)).toEqual(["pusher_internal:subscription_succeeded"]);
    raw.close();
  });

  it("pusher-js exposes channel.subscriptionCount and emits pusher:subscription_count", async () => {
    const first = pusherClient(counting);
    const second = pusherClient(counting);
    await Promise.all([connected(first), connected(second)]);
    const channel = first.subscribe("pusherjs-counted");
    const initial = once(channel, "pusher:subscription_count");
    await once(channel, "pusher:subscription_succeeded");
    expect(await initial).toEqual({ subscription_count: 1 });
    expect((channel as any).subscriptionCount).toBe(1);
    const grown = once(channel, "pusher:subscription_count");
    second.subscribe("pusherjs-counted");
    expect(await grown).toEqual({ subscription_count: 2 });
    expect((channel as any).subscriptionCount).toBe(2);
    const shrunk = once(channel, "pusher:subscription_count");
    second.unsubscribe("pusherjs-counted");
    expect(await shrunk).toEqual({ subscription_count: 1 });
    expect((channel as any).subscriptionCount).toBe(1);
    first.disconnect();
    second.disconnect();
  });
});
