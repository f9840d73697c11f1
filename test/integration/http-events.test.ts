// POST /apps/{id}/events through the official pusher SDK (spec §6.3, checklist 49-54), with
// pusher-js and raw WebSocket subscribers checking what is actually delivered.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connected, once, pusherClient, sdk, type Frame, type RawClient } from "../helpers/clients.ts";
import { outcome, sdkPost, signedRequest, subscribe, subscribed } from "../helpers/rest.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
const open: { close(): void }[] = [];
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
});

let n = 0;
/** A fresh channel name per test, so subscribers of earlier tests never interfere. */
const unique = (prefix = "ch") => `${prefix}-events-${++n}`;
const sub = async (channel: string, member?: { user_id: string; user_info?: unknown }) => {
  const client = await subscribed(server, channel, member);
  open.push(client);
  return client;
};
/** The next application (non-pusher) event the client gets on `channel`. */
const appEvent = (client: RawClient, channel: string) => client.next((f: Frame) => f.channel === channel && !f.event.startsWith("pusher"));
const trigger = (channels: string | string[], event: string, data: unknown, params?: Record<string, string>) =>
  outcome(sdk(server).trigger(channels, event, data, params));

describe("POST /events delivery", () => {
  it("returns 200 {} and delivers the SDK body to pusher-js (vector B5 shape)", async () => {
    const channel = unique("my-channel");
    const client = pusherClient(server);
    open.push({ close: () => client.disconnect() });
    await connected(client);
    const ch = client.subscribe(channel);
    await once(ch, "pusher:subscription_succeeded");
    const got = once(ch, "my-event");
    const res = await trigger(channel, "my-event", { hello: "world" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect(await got).toEqual({ hello: "world" });
  });

  it("sends raw subscribers exactly {event, channel, data} with data byte-for-byte", async () => {
    const channel = unique();
    const raw = await sub(channel);
    const data = '{"hello": "world",  "n":1.50, "s":"\\u00e9"}'; // spacing and escapes must survive
    expect((await trigger(channel, "my-event", data)).status).toBe(200);
    const frame = await appEvent(raw, channel);
    expect(frame).toEqual({ event: "my-event", channel, data });
    expect(Object.keys(frame).sort()).toEqual(["channel", "data", "event"]);
  });

  it("relays non-JSON strings and the empty string verbatim", async () => {
    const channel = unique();
    const raw = await sub(channel);
    expect((await trigger(channel, "plain", "just text")).status).toBe(200);
    expect((await trigger(channel, "empty", "")).status).toBe(200);
    expect(await appEvent(raw, channel)).toEqual({ event: "plain", channel, data: "just text" });
    expect(await appEvent(raw, channel)).toEqual({ event: "empty", channel, data: "" });
  });

  it("accepts a non-string data value and relays its JSON serialization", async () => {
    const channel = unique();
    const raw = await sub(channel);
    const res = await sdkPost(sdk(server), "/events", { name: "obj", channel, data: { a: [1, 2] } });
    expect(res.status).toBe(200);
    expect(await appEvent(raw, channel)).toEqual({ event: "obj", channel, data: '{"a":[1,2]}' });
  });

  it("delivers events of one channel in publish order", async () => {
    const channel = unique();
    const raw = await sub(channel);
    for (let i = 0; i < 5; i++) expect((await trigger(channel, "seq", String(i))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await appEvent(raw, channel)).data).toBe(String(i));
  });

  it("delivers a multi-channel trigger once per channel, de-duplicating channel names", async () => {
    const [a, b, c] = [unique(), unique(), unique()];
    const onA = await sub(a);
    const onC = await sub(c);
    const onAB = await sub(a);
    await subscribe(server, onAB, b);
    expect((await trigger([a, b, a, c], "multi", "x")).status).toBe(200);
    expect(await appEvent(onA, a)).toEqual({ event: "multi", channel: a, data: "x" });
    expect(await appEvent(onC, c)).toEqual({ event: "multi", channel: c, data: "x" });
    expect(await appEvent(onAB, a)).toEqual({ event: "multi", channel: a, data: "x" });
    expect(await appEvent(onAB, b)).toEqual({ event: "multi", channel: b, data: "x" });
    // A marker proves no second copy of "multi" was queued on channel a (same-channel order).
    expect((await trigger(a, "marker", "m")).status).toBe(200);
    expect((await appEvent(onA, a)).event).toBe("marker");
    expect((await appEvent(onAB, a)).event).toBe("marker");
  });
});

describe("socket_id exclusion", () => {
  it("excludes exactly the given socket, on every channel of the trigger", async () => {
    const [c1, c2] = [unique(), unique()];
    const excluded = await sub(c1);
    const other = await sub(c1);
    const elsewhere = await sub(c2);
    const res = await trigger([c1, c2], "skip-me", "1", { socket_id: excluded.socketId! });
    expect(res.status).toBe(200);
    expect(await appEvent(other, c1)).toMatchObject({ event: "skip-me" });
    expect(await appEvent(elsewhere, c2)).toMatchObject({ event: "skip-me" });
    // The excluded socket's next event is the following publish: it never got "skip-me".
    expect((await trigger(c1, "after", "2")).status).toBe(200);
    expect(await appEvent(excluded, c1)).toMatchObject({ event: "after", data: "2" });
    expect(await appEvent(other, c1)).toMatchObject({ event: "after" });
  });

  it("excludes nobody when the socket id belongs to no subscriber", async () => {
    const channel = unique();
    const raw = await sub(channel);
    expect((await trigger(channel, "all", "1", { socket_id: "1.1" })).status).toBe(200);
    expect(await appEvent(raw, channel)).toMatchObject({ event: "all" });
  });

  it("rejects an invalid socket_id with 400 and publishes nothing", async () => {
    const channel = unique();
    const raw = await sub(channel);
    for (const socketId of ["abc", "1.2.3", "12", "", 123.456]) {
      const res = await sdkPost(sdk(server), "/events", { name: "bad", channel, data: "x", socket_id: socketId });
      expect(res.status, `socket_id ${JSON.stringify(socketId)}`).toBe(400);
      expect(res.json.error).toEqual(expect.any(String));
    }
    expect((await trigger(channel, "marker", "m")).status).toBe(200);
    expect((await appEvent(raw, channel)).event).toBe("marker");
  });
});

describe("info attributes in the trigger response", () => {
  it("returns user_count and subscription_count per channel, omitting what does not apply", async () => {
    const presence = unique("presence");
    const pub = unique();
    const empty = unique();
    await sub(presence, { user_id: "1", user_info: { name: "Ada" } });
    await sub(presence, { user_id: "1", user_info: { name: "Ada" } }); // same member, second socket
    await sub(presence, { user_id: "2" });
    await sub(pub);
    const res = await trigger([presence, pub, empty], "counted", "x", { info: "user_count,subscription_count" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      channels: {
        [presence]: { user_count: 2, subscription_count: 3 },
        [pub]: { subscription_count: 1 },
        [empty]: { subscription_count: 0 },
      },
    });
  });

  it("gives {} for a channel where the only requested attribute does not apply", async () => {
    const pub = unique();
    await sub(pub);
    const res = await trigger(pub, "e", "x", { info: "user_count" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ channels: { [pub]: {} } });
  });
});

describe("validation errors", () => {
  const post = (body: unknown) => sdkPost(sdk(server), "/events", body);
  const names = (count: number) => Array.from({ length: count }, (_, i) => `many-${i}`);

  it("accepts 100 channels and rejects 101 with 400", async () => {
    expect((await post({ name: "e", data: "x", channels: names(100) })).status).toBe(200);
    const res = await post({ name: "e", data: "x", channels: names(101) });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: expect.any(String) });
  });

  it("accepts a 200-character event name and rejects 201 with 400", async () => {
    expect((await trigger(unique(), "e".repeat(200), "x")).status).toBe(200);
    expect((await post({ name: "e".repeat(201), data: "x", channels: [unique()] })).status).toBe(400);
  });

  it("rejects reserved event names (pusher: and pusher_internal:) with 400", async () => {
    expect((await trigger(unique(), "pusher:subscribe", "x")).status).toBe(400);
    expect((await trigger(unique(), "pusher_internal:member_added", "x")).status).toBe(400);
    // Only the exact prefixes are reserved.
    expect((await trigger(unique(), "pusher-like", "x")).status).toBe(200);
  });

  it("accepts data of exactly 10240 bytes and rejects 10241 with 413, delivering only the first", async () => {
    const channel = unique();
    const raw = await sub(channel);
    expect((await trigger(channel, "fits", "x".repeat(10240))).status).toBe(200);
    const tooBig = await trigger(channel, "too-big", "x".repeat(10241));
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toEqual({ error: expect.any(String) });
    expect((await trigger(channel, "marker", "m")).status).toBe(200);
    expect((await appEvent(raw, channel)).data).toHaveLength(10240);
    expect((await appEvent(raw, channel)).event).toBe("marker");
  });

  it("measures the limit in UTF-8 bytes, not characters", async () => {
    expect((await trigger(unique(), "fits", "é".repeat(5120))).status).toBe(200); // 10240 bytes
    expect((await trigger(unique(), "too-big", "é".repeat(5121))).status).toBe(413); // 10242 bytes
  });

  it("rejects a multi-channel trigger that includes a private-encrypted- channel with 400", async () => {
    expect((await post({ name: "e", data: "x", channels: [unique(), unique("private-encrypted")] })).status).toBe(400);
  });

  it("relays a single-channel encrypted trigger opaquely", async () => {
    const channel = unique("private-encrypted");
    const raw = await sub(channel);
    const data = '{"nonce":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH","ciphertext":"fVkX6UOYI5PwSnHBxhm2DHK0l+3dFKVSyBHQXT+IZ+I="}';
    expect((await post({ name: "secret", data, channels: [channel] })).status).toBe(200);
    expect(await appEvent(raw, channel)).toEqual({ event: "secret", channel, data });
  });

  it.each<[string, unknown]>([
    ["missing name", { data: "x", channels: ["a"] }],
    ["empty name", { name: "", data: "x", channels: ["a"] }],
    ["non-string name", { name: 5, data: "x", channels: ["a"] }],
    ["missing data", { name: "e", channels: ["a"] }],
    ["null data", { name: "e", data: null, channels: ["a"] }],
    ["no channels", { name: "e", data: "x" }],
    ["empty channels", { name: "e", data: "x", channels: [] }],
    ["invalid channel name", { name: "e", data: "x", channels: ["bad channel"] }],
    ["201-character channel name", { name: "e", data: "x", channels: ["c".repeat(201)] }],
    ["non-string channel", { name: "e", data: "x", channels: [42] }],
    ["non-string info", { name: "e", data: "x", channels: ["a"], info: 1 }],
    ["a JSON array body", ["not", "an", "object"]],
  ])("%s → 400 {error}", async (_name, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: expect.any(String) });
  });

  it("accepts the single `channel` field instead of `channels`", async () => {
    const channel = unique();
    const raw = await sub(channel);
    expect((await post({ name: "single", data: "x", channel })).status).toBe(200);
    expect(await appEvent(raw, channel)).toEqual({ event: "single", channel, data: "x" });
  });

  it("answers malformed JSON with 400, a JSON content type and an {error} body", async () => {
    const res = await signedRequest(server, "POST", "/events", '{"name":"e",');
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json).toEqual({ error: expect.any(String) });
  });

  it("parses the body as JSON whatever the Content-Type says", async () => {
    const channel = unique();
    const raw = await sub(channel);
    const body = JSON.stringify({ name: "typed", data: "x", channels: [channel] });
    for (const type of ["text/plain", "application/json; charset=utf-8"]) {
      expect((await signedRequest(server, "POST", "/events", body, { headers: { "content-type": type } })).status).toBe(200);
      expect(await appEvent(raw, channel)).toMatchObject({ event: "typed" });
    }
  });
});

describe("POST /events with an idempotency key", () => {
  const publish = (channel: string, data: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
    signedRequest(server, "POST", "/events", JSON.stringify({ name: "paid", channel, data, ...extra }), { headers });
  /** Every application event the client got on `channel` up to a marker published after them. */
  const seen = async (raw: RawClient, channel: string): Promise<string[]> => {
    await publish(channel, "marker");
    const got: string[] = [];
    for (;;) {
      const frame = await appEvent(raw, channel);
      if (frame.data === "marker") return got;
      got.push(String(frame.data));
    }
  };

  it("delivers a retry with the same X-Idempotency-Key once, and answers it as a duplicate", async () => {
    const channel = unique();
    const raw = await sub(channel);
    const first = await publish(channel, "one", { "X-Idempotency-Key": "pay-1" });
    expect([first.status, first.json, first.headers.get("idempotent-replayed")]).toEqual([200, {}, null]);
    const again = await publish(channel, "one", { "X-Idempotency-Key": "pay-1" });
    expect([again.status, again.json, again.headers.get("idempotent-replayed")]).toEqual([200, { duplicate: true }, "true"]);
    // Another key, or no key, is a new publish.
    expect((await publish(channel, "two", { "X-Idempotency-Key": "pay-2" })).json).toEqual({});
    expect((await publish(channel, "three")).json).toEqual({});
    expect(await seen(raw, channel)).toEqual(["one", "two", "three"]);
  });

  it("takes the key from the body's idempotency_key too (Sockudo's name), and per batch item", async () => {
    const channel = unique();
    const raw = await sub(channel);
    const res = await outcome(sdk(server).trigger(channel, "paid", "a", { idempotency_key: "body-1" } as object));
    expect(res.status).toBe(200);
    expect((await publish(channel, "a", {}, { idempotency_key: "body-1" })).json).toEqual({ duplicate: true });
    const batch = (items: object[], headers: Record<string, string> = {}) =>
      signedRequest(server, "POST", "/batch_events", JSON.stringify({ batch: items }), { headers });
    const item = (data: string, key?: string) => ({ name: "paid", channel, data, ...(key ? { idempotency_key: key } : {}) });
    // Items keyed by the header: each item gets its own key (header#index).
    expect((await batch([item("b0"), item("b1")], { "X-Idempotency-Key": "batch-1" })).json).toEqual({});
    const replay = await batch([item("b0"), item("b1")], { "X-Idempotency-Key": "batch-1" });
    expect([replay.json, replay.headers.get("idempotent-replayed")]).toEqual([{ duplicate: true }, "true"]);
    // A batch whose first item was delivered before: only the new item goes out.
    expect((await batch([item("a", "body-1"), item("c", "body-3")])).json).toEqual({});
    expect(await seen(raw, channel)).toEqual(["a", "b0", "b1", "c"]);
  });

  it("refuses an idempotency key that is not 1 to 256 printable characters with 400", async () => {
    const channel = unique();
    for (const [headers, extra] of [
      [{ "X-Idempotency-Key": "x".repeat(257) }, {}],
      [{}, { idempotency_key: 42 }],
      [{}, { idempotency_key: "" }],
      [{}, { idempotency_key: "a\nb" }],
    ] as [Record<string, string>, Record<string, unknown>][]) {
      const res = await publish(channel, "x", headers, extra);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatch(/idempotency/i);
    }
  });
});
