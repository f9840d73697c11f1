// Webhooks end to end (spec §7): a real server process, a real HTTP receiver, and every request
// checked with the official pusher SDK's webhook(...).isValid().
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import { runtimeFeatures, startServer, type TestServer } from "../helpers/server.ts";
import { startReceiver, tally, type Receiver, type WebhookEventBody } from "../helpers/webhook-receiver.ts";
import { eventually, signIn, subscribe } from "../adapters/cluster.ts";
import { send } from "../helpers/rest.ts";

const APP = { appId: "app-id", key: "app-key", secret: "app-secret" };
const ALL = ["channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss", "subscription_count"];

function env(receiver: Receiver, webhooks: unknown[] | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    APP_ENABLE_CLIENT_MESSAGES: "true",
    APP_WEBHOOKS: JSON.stringify(webhooks ?? [{ url: receiver.url, event_types: ALL }]),
    LOG_LEVEL: "debug",
    ...extra,
  };
}

const clients: RawClient[] = [];
async function client(server: TestServer): Promise<RawClient> {
  const c = await rawClient(server);
  clients.push(c);
  return c;
}
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

const on = (channel: string) => (e: WebhookEventBody) => e.channel === channel;

/**
 * Negative assertions wait for a sentinel instead of a fixed time: `client` (or anyone, after what
 * the test did) subscribes a fresh channel, and its channel_occupied webhook arriving means every
 * webhook from before has arrived too. That holds where WEBHOOK_CONCURRENCY is 1: events reach the
 * queue in the order they happened (pipeline.ts) and one worker sends them in that order.
 */
let sentinels = 0;
async function sentinel(server: TestServer, receiver: Receiver, by: RawClient): Promise<void> {
  const channel = `sentinel-${++sentinels}`;
  await subscribe(server, by, channel);
  await receiver.waitFor((all) => all.some((e) => e.name === "channel_occupied" && e.channel === channel));
}
const names = (events: WebhookEventBody[]) => events.map((e) => (e.user_id ? `${e.name} ${e.user_id}` : e.name));

describe("webhooks: every event type, unbatched, signed", () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startReceiver(APP);
    server = await startServer({
      env: env(receiver, [
        { url: receiver.url, event_types: ALL },
        // Only presence member_added, with headers that try to override the signed ones.
        {
          url: `${receiver.url}/filtered`,
          event_types: ["member_added", "channel_occupied"],
          filter: { channel_name_starts_with: "presence-", channel_name_ends_with: "-admin" },
          headers: { "X-Custom": "yes", "X-Pusher-Key": "forged", "x-pusher-signature": "forged", "Content-Type": "text/plain" },
        },
      ], { APP_ENABLE_SUBSCRIPTION_COUNT: "true", WEBHOOK_CONCURRENCY: "1" }),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("public channel: channel_occupied then channel_vacated, one event per body, valid signature", async () => {
    const a = await client(server);
    await subscribe(server, a, "hooks-public");
    a.send({ event: "pusher:unsubscribe", data: { channel: "hooks-public" } });
    const events = await receiver.waitFor((all) => all.filter(on("hooks-public")).some((e) => e.name === "channel_vacated"));
    const transitions = events.filter(on("hooks-public")).filter((e) => e.name !== "subscription_count");
    expect(names(transitions)).toEqual(["channel_occupied", "channel_vacated"]);
    for (const r of receiver.received) {
      expect(r.valid).toBe(true);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.events).toHaveLength(1);
      expect(Math.abs(r.time_ms - Date.now())).toBeLessThan(10_000);
    }
  });

  it("presence channel: occupied, member_added (once per user), client_event with user_id, member_removed, vacated, in order", async () => {
    const ch = "presence-hooks";
    const a = await client(server);
    await subscribe(server, a, ch, { user_id: "u1" });
    const a2 = await client(server);
    await subscribe(server, a2, ch, { user_id: "u1" }); // second socket of u1: no member_added
    const b = await client(server);
    await subscribe(server, b, ch, { user_id: "u2" });
    b.send({ event: "client-typing", channel: ch, data: { typing: true } });
    await receiver.waitFor((all) => all.some((e) => e.name === "client_event" && e.channel === ch));
    for (const c of [a, a2, b]) c.send({ event: "pusher:unsubscribe", data: { channel: ch } });
    const events = (await receiver.waitFor((all) => all.filter(on(ch)).some((e) => e.name === "channel_vacated"))).filter(on(ch));
    const seq = names(events);
    expect(seq.slice(0, 3)).toEqual(["channel_occupied", "member_added u1", "member_added u2"]);
    expect(seq[3]).toBe("client_event u2");
    expect(seq.at(-1)).toBe("channel_vacated");
    expect(seq.filter((n) => n.startsWith("member_removed")).sort()).toEqual(["member_removed u1", "member_removed u2"]);
    const clientEvent = events.find((e) => e.name === "client_event")!;
    expect(clientEvent).toEqual({ name: "client_event", channel: ch, event: "client-typing", data: '{"typing":true}', socket_id: b.socketId, user_id: "u2" });
  });

  it("private channel: client_event carries data as a string, socket_id, and no user_id", async () => {
    const ch = "private-hooks";
    const a = await client(server);
    await subscribe(server, a, ch);
    a.send({ event: "client-ping", channel: ch, data: "plain" });
    const [e] = (await receiver.waitFor((all) => all.some((x) => x.name === "client_event" && x.channel === ch))).filter((x) => x.name === "client_event" && x.channel === ch);
    expect(e).toEqual({ name: "client_event", channel: ch, event: "client-ping", data: "plain", socket_id: a.socketId });
  });

  it("cache channel: one cache_miss until an event is cached or the channel is vacated", async () => {
    const ch = "cache-hooks";
    const a = await client(server);
    await subscribe(server, a, ch);
    const b = await client(server);
    await subscribe(server, b, ch); // a second miss while occupied: suppressed
    await receiver.waitFor((all) => all.some((e) => e.name === "cache_miss" && e.channel === ch));
    await sdk(server).trigger(ch, "price", { p: 1 });
    const c = await client(server);
    await subscribe(server, c, ch); // a hit: nothing
    await sentinel(server, receiver, c);
    expect(receiver.events((e) => e.name === "cache_miss" && e.channel === ch)).toHaveLength(1);
  });

  it("subscription_count reports the channel's count when the app enables it", async () => {
    const ch = "counted-hooks";
    const a = await client(server);
    await subscribe(server, a, ch);
    const b = await client(server);
    await subscribe(server, b, ch);
    const events = await receiver.waitFor((all) => all.some((e) => e.name === "subscription_count" && e.channel === ch && e.subscription_count === 2));
    expect(events.filter((e) => e.name === "subscription_count" && e.channel === ch).map((e) => e.subscription_count)).toEqual([1, 2]);
  });

  it("server-to-user channels produce no occupied/vacated webhooks", async () => {
    const user = await signIn(server, "s2u");
    clients.push(user);
    await subscribe(server, user, "#server-to-user-s2u");
    // It really is in the channel: a message to the user reaches it there.
    await sdk(server).sendToUser("s2u", "hello", { n: 1 });
    await user.next((f) => f.event === "hello" && f.channel === "#server-to-user-s2u");
    user.send({ event: "pusher:unsubscribe", data: { channel: "#server-to-user-s2u" } });
    await sentinel(server, receiver, user);
    const transitions = receiver.events((e) => e.channel.startsWith("#server-to-user-") && e.name !== "subscription_count");
    expect(transitions).toEqual([]);
  });

  it("filters: only matching events reach the filtered webhook; its headers cannot override the signed ones", async () => {
    const ch = "presence-room-admin";
    const a = await client(server);
    await subscribe(server, a, ch, { user_id: "boss" });
    const other = await client(server);
    await subscribe(server, other, "presence-room-guest", { user_id: "guest" });
    await receiver.waitFor((all) => all.some((e) => e.name === "member_added" && e.user_id === "guest"));
    // The filtered webhook's copy of the guest's events would be queued after the main one's.
    await sentinel(server, receiver, other);
    const filtered = receiver.received.filter((r) => r.path === "/pusher/webhooks/filtered");
    expect(filtered.flatMap((r) => names(r.events))).toEqual(["channel_occupied", "member_added boss"]);
    for (const r of filtered) {
      expect(r.valid).toBe(true);
      expect(r.headers["x-custom"]).toBe("yes");
      expect(r.headers["x-pusher-key"]).toBe("app-key");
      expect(r.headers["content-type"]).toBe("application/json");
    }
  });
});

describe("webhooks: batching", () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startReceiver(APP);
    server = await startServer({ env: env(receiver, undefined, { WEBHOOK_BATCHING: "true", WEBHOOK_BATCHING_DURATION_MS: "300" }) });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("events within the window share a body, in order, and the body is signed as sent", async () => {
    const a = await client(server);
    for (let i = 0; i < 5; i++) await subscribe(server, a, `batch-${i}`);
    const events = await receiver.waitFor((all) => all.filter((e) => e.channel.startsWith("batch-")).length === 5);
    expect(events.map((e) => e.channel)).toEqual(["batch-0", "batch-1", "batch-2", "batch-3", "batch-4"]);
    expect(receiver.received.length).toBeLessThan(5);
    expect(receiver.received.some((r) => r.events.length > 1)).toBe(true);
    expect(receiver.received.every((r) => r.valid)).toBe(true);
  });
});

describe("webhooks: the app's batching switch overrides the server's", () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startReceiver(APP);
    server = await startServer({
      env: env(receiver, undefined, {
        WEBHOOK_BATCHING: "true", WEBHOOK_BATCHING_DURATION_MS: "300", APP_HAS_WEBHOOK_BATCHING_ENABLED: "false", APP_HAS_CLIENT_EVENT_WEBHOOKS: "false",
        WEBHOOK_CONCURRENCY: "1",
      }),
    });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("sends one event per body, and nothing for a type the app switched off", async () => {
    const a = await client(server);
    for (let i = 0; i < 3; i++) await subscribe(server, a, `private-solo-${i}`);
    a.send({ event: "client-x", channel: "private-solo-0", data: {} });
    await receiver.waitFor((all) => all.filter((e) => e.channel.startsWith("private-solo-")).length === 3);
    // Unbatched, the sentinel's webhook comes at once; batched, it would wait out the 300 ms window.
    await sentinel(server, receiver, a);
    expect(receiver.received.every((r) => r.events.length === 1)).toBe(true);
    expect(receiver.events((e) => e.name === "client_event")).toEqual([]);
  });
});

describe("webhooks: vacancy delay", () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startReceiver(APP);
    server = await startServer({ env: env(receiver, undefined, { WEBHOOK_VACATE_DELAY_MS: "1000", WEBHOOK_CONCURRENCY: "1" }) });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("a reload within the delay sends nothing; a real departure is sent after the delay, removal before vacancy", async () => {
    const ch = "presence-reload";
    const a = await client(server);
    await subscribe(server, a, ch, { user_id: "u1" });
    // A member of another channel who really leaves right after the reload: its removal, held as
    // long, is the sentinel for the reload's.
    const leaver = await client(server);
    await subscribe(server, leaver, `${ch}-sentinel`, { user_id: "u2" });
    await receiver.waitFor((all) => all.some((e) => e.name === "member_added" && e.channel === `${ch}-sentinel`));
    a.close(); // page reload: gone and back within the delay
    // Gone for the server too (only the leaver is left), so the removal is held before the return.
    await eventually(async () => (await send(server, "GET", "/usage")).json?.connections === 1, 5000, "the reload's close");
    const again = await client(server);
    await subscribe(server, again, ch, { user_id: "u1" });
    leaver.close();
    await receiver.waitFor((all) => all.some((e) => e.name === "member_removed" && e.channel === `${ch}-sentinel`));
    expect(names(receiver.events(on(ch)))).toEqual(["channel_occupied", "member_added u1"]);
    const left = Date.now();
    again.close();
    await receiver.waitFor((all) => all.some((e) => e.name === "channel_vacated" && e.channel === ch));
    expect(Date.now() - left).toBeGreaterThanOrEqual(900);
    expect(names(receiver.events(on(ch)))).toEqual(["channel_occupied", "member_added u1", "member_removed u1", "channel_vacated"]);
  });
});

describe("webhooks: retries and dead letters", () => {
  let receiver: Receiver;
  let server: TestServer;
  beforeAll(async () => {
    receiver = await startReceiver(APP);
    server = await startServer({ env: env(receiver, undefined, { WEBHOOK_RETRY_WINDOW_MS: "2500" }) });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("an endpoint that answers 503 for a while gets every event once it recovers", async () => {
    let refusals = 0;
    receiver.answer = () => (refusals++ < 4 ? 503 : 200);
    const a = await client(server);
    for (const ch of ["retry-a", "retry-b"]) await subscribe(server, a, ch);
    const events = await receiver.waitFor((all) => all.filter((e) => e.channel.startsWith("retry-")).length === 2);
    expect(tally(events.filter((e) => e.channel.startsWith("retry-")))).toEqual({ "channel_occupied retry-a": 1, "channel_occupied retry-b": 1 });
    expect(refusals).toBeGreaterThanOrEqual(4);
    expect(server.output()).toMatch(/webhook to http:\/\/127\.0\.0\.1:\d+\/pusher\/webhooks for app app-id failed: HTTP 503/);
  });

  it("a redirect is not followed, and a body still failing when the window ends is dead-lettered (logged at warn)", async () => {
    receiver.answer = (_req, res) => {
      res.writeHead(302, { Location: "http://127.0.0.1:1/elsewhere" }).end();
    };
    const a = await client(server);
    await subscribe(server, a, "doomed");
    const deadline = Date.now() + 8000;
    while (!/webhook dead-lettered: app app-id, target http:\/\/127\.0\.0\.1:\d+\/pusher\/webhooks, 1 events/.test(server.output())) {
      if (Date.now() > deadline) throw new Error(`no dead letter logged:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(server.output()).toMatch(/redirect to http:\/\/127\.0\.0\.1:1\/elsewhere not followed/);
    receiver.answer = () => 200;
  });
});

describe("webhooks: configuration errors name the key", () => {
  it.each([
    [JSON.stringify([{ url: "ftp://x.example", event_types: ["channel_occupied"] }]), /APP_WEBHOOKS.*webhooks\.0\.url/],
    [JSON.stringify([{ event_types: ["channel_occupied"] }]), /APP_WEBHOOKS.*exactly one target/],
    [JSON.stringify([{ url: "https://x.example", event_types: ["channel_occupide"] }]), /APP_WEBHOOKS.*event_types/],
  ])("%s", async (hooks, pattern) => {
    await expect(startServer({ env: { APP_WEBHOOKS: hooks } })).rejects.toThrow(pattern);
  });

  it("QUEUE_DRIVER=sqs without SQS_QUEUE_URL", async () => {
    await expect(startServer({ env: { QUEUE_DRIVER: "sqs" } })).rejects.toThrow(/SQS_QUEUE_URL/);
  });
});

describe.runIf(runtimeFeatures.gracefulDrain)("webhooks: graceful shutdown", () => {
  it("sends what the vacancy delay holds and what the memory queue has before the process exits", async () => {
    const receiver = await startReceiver(APP);
    try {
      const server = await startServer({ env: env(receiver, undefined, { WEBHOOK_VACATE_DELAY_MS: "60000" }) });
      const a = await client(server);
      await subscribe(server, a, "presence-bye", { user_id: "u1" });
      await receiver.waitFor((all) => all.some((e) => e.name === "member_added"));
      await server.stop(); // SIGTERM: the socket's removal is held for 60 s, yet must be sent now
      expect(names(receiver.events(on("presence-bye")))).toEqual(["channel_occupied", "member_added u1", "member_removed u1", "channel_vacated"]);
    } finally {
      await receiver.close();
    }
  });
});
