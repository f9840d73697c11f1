// Presence channels (spec §3.6, checklist 21-30): member lists, member_added/member_removed
// de-duplication per user id, limits and channel_data validation, asserted on the raw wire
// frames, plus the pusher-js members API on top of them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authToken, byEvent, connected, dataOf, once, pusherClient, rawClient, type Frame, type RawClient } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";
import { describePresenceStorm } from "../adapters/presence-storm-suite.ts";
import { describeSubscribeBurst } from "../adapters/subscribe-burst-suite.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

const ACK = "pusher_internal:subscription_succeeded";
const ERR = "pusher:subscription_error";
const isMemberEvent = (channel: string) => (f: Frame) =>
  f.channel === channel && (f.event === "pusher_internal:member_added" || f.event === "pusher_internal:member_removed");

/** Subscribes with a token signed the way an app's auth endpoint would; resolves with the ack or error frame. */
async function join(s: TestServer, client: RawClient, channel: string, channelData?: string): Promise<Frame> {
  const signed = channelData ? `${client.socketId}:${channel}:${channelData}` : `${client.socketId}:${channel}`;
  client.send({ event: "pusher:subscribe", data: { channel, auth: authToken(s, signed), ...(channelData ? { channel_data: channelData } : {}) } });
  return client.next((f) => f.channel === channel && (f.event === ACK || f.event === ERR));
}

async function member(channel: string, data: Record<string, unknown>, s = server): Promise<RawClient> {
  const client = await rawClient(s);
  const ack = await join(s, client, channel, JSON.stringify(data));
  expect(ack.event).toBe(ACK);
  return client;
}

/** Proves the socket is still open and processing: a ping is answered after everything sent before it. */
async function roundTrip(client: RawClient): Promise<void> {
  client.send({ event: "pusher:ping", data: {} });
  await client.next(byEvent("pusher:pong"));
}

describe("presence subscription acknowledgement", () => {
  it("returns ids, hash and count including the joining member (vector B2 shape)", async () => {
    const a = await rawClient(server);
    const ack = await join(server, a, "presence-b2", '{"user_id":"42","user_info":{"name":"Ada"}}');
    // data is a JSON string; nothing else rides along on the frame.
    expect(typeof ack.data).toBe("string");
    expect(Object.keys(ack).sort()).toEqual(["channel", "data", "event"]);
    expect(ack.event).toBe(ACK);
    expect(dataOf(ack)).toEqual({ presence: { ids: ["42"], hash: { "42": { name: "Ada" } }, count: 1 } });
    a.close();
  });

  it("lists every member in hash, with null for a member without user_info", async () => {
    const a = await member("presence-hash", { user_id: "42", user_info: { name: "Ada" } });
    const b = await rawClient(server);
    const ack = await join(server, b, "presence-hash", '{"user_id":"7"}');
    const { presence } = dataOf(ack);
    expect([...presence.ids].sort()).toEqual(["42", "7"]);
    expect(presence.count).toBe(2);
    // pusher-js looks members up with hasOwnProperty, so the key must exist even when null.
    expect(Object.prototype.hasOwnProperty.call(presence.hash, "7")).toBe(true);
    expect(presence.hash).toEqual({ "42": { name: "Ada" }, "7": null });
    a.close();
    b.close();
  });
});

describe("member_added / member_removed de-duplication", () => {
  it("announces a new member to existing subscribers only, not to the joiner", async () => {
    const ch = "presence-added";
    const a = await member(ch, { user_id: "1", user_info: { name: "One" } });
    const b = await member(ch, { user_id: "2" });
    const added = await a.next(byEvent("pusher_internal:member_added", ch));
    expect(added).toEqual({ event: "pusher_internal:member_added", channel: ch, data: '{"user_id":"2","user_info":null}' });
    expect(await b.none(isMemberEvent(ch))).toBe(true);
    a.close();
    b.close();
  });

  it("a second socket of an existing member triggers no member_added and sees the member once", async () => {
    const ch = "presence-second-socket";
    const a = await member(ch, { user_id: "1" });
    const b1 = await member(ch, { user_id: "2", user_info: { n: 1 } });
    await a.next(byEvent("pusher_internal:member_added", ch));
    const b2 = await rawClient(server);
    const ack = await join(server, b2, ch, JSON.stringify({ user_id: "2", user_info: { n: 2 } }));
    // Counts are distinct users; the first socket's user_info is the member's.
    expect(dataOf(ack).presence.count).toBe(2);
    expect(dataOf(ack).presence.hash["2"]).toEqual({ n: 1 });
    expect(await a.none(isMemberEvent(ch))).toBe(true);
    expect(await b1.none(isMemberEvent(ch), 50)).toBe(true);
    for (const c of [a, b1, b2]) c.close();
  });

  it("treats numeric user_id 10 and string \"10\" as one member and emits the id as a string", async () => {
    const ch = "presence-numeric";
    const observer = await member(ch, { user_id: "obs" });
    const numeric = await rawClient(server);
    const ack = await join(server, numeric, ch, '{"user_id":10,"user_info":{"kind":"number"}}');
    expect(dataOf(ack).presence.ids).toContain("10");
    expect(dataOf(ack).presence.ids).not.toContain(10);
    const added = await observer.next(byEvent("pusher_internal:member_added", ch));
    expect(dataOf(added)).toEqual({ user_id: "10", user_info: { kind: "number" } });

    const str = await rawClient(server);
    const ack2 = await join(server, str, ch, '{"user_id":"10"}');
    expect(dataOf(ack2).presence).toEqual({ ids: expect.arrayContaining(["obs", "10"]), hash: { obs: null, "10": { kind: "number" } }, count: 2 });
    expect(await observer.none(isMemberEvent(ch))).toBe(true);

    // Only when both sockets of member "10" are gone is it removed — as the string "10".
    numeric.close();
    expect(await observer.none(isMemberEvent(ch))).toBe(true);
    str.close();
    const removed = await observer.next(byEvent("pusher_internal:member_removed", ch));
    expect(removed).toEqual({ event: "pusher_internal:member_removed", channel: ch, data: '{"user_id":"10"}' });
    observer.close();
  });

  it("removes a member only when its last socket leaves, by unsubscribe or by close", async () => {
    const ch = "presence-removed";
    const observer = await member(ch, { user_id: "obs" });
    const u1 = await member(ch, { user_id: "u" });
    const u2 = await member(ch, { user_id: "u" });
    await observer.next(byEvent("pusher_internal:member_added", ch));

    u1.send({ event: "pusher:unsubscribe", data: { channel: ch } });
    await roundTrip(u1);
    expect(await observer.none(isMemberEvent(ch))).toBe(true);

    u2.close();
    const removed = await observer.next(byEvent("pusher_internal:member_removed", ch));
    expect(removed).toEqual({ event: "pusher_internal:member_removed", channel: ch, data: '{"user_id":"u"}' });
    expect(await observer.none(isMemberEvent(ch))).toBe(true);
    u1.close();
    observer.close();
  });

  it("unsubscribing the only socket of a member removes it and the socket hears nothing more", async () => {
    const ch = "presence-unsubscribe";
    const observer = await member(ch, { user_id: "obs" });
    const leaver = await member(ch, { user_id: "leaver" });
    await observer.next(byEvent("pusher_internal:member_added", ch));
    leaver.send({ event: "pusher:unsubscribe", data: { channel: ch } });
    expect(dataOf(await observer.next(byEvent("pusher_internal:member_removed", ch)))).toEqual({ user_id: "leaver" });
    // The unsubscribed socket no longer receives the channel's member events.
    const late = await member(ch, { user_id: "late" });
    await observer.next(byEvent("pusher_internal:member_added", ch));
    expect(await leaver.none(isMemberEvent(ch), 100)).toBe(true);
    for (const c of [observer, leaver, late]) c.close();
  });
});

describe("presence validation", () => {
  const invalid = async (channelData: string) => {
    const client = await rawClient(server);
    const frame = await join(server, client, "presence-invalid", channelData);
    client.close();
    return frame;
  };

  it("rejects channel_data that is not JSON with InvalidChannelData 400", async () => {
    const frame = await invalid("not json");
    expect(frame.event).toBe(ERR);
    expect(typeof frame.data).toBe("string");
    expect(dataOf(frame)).toEqual({ type: "InvalidChannelData", error: expect.any(String), status: 400 });
  });

  it("rejects channel_data without user_id with InvalidChannelData 400", async () => {
    const frame = await invalid('{"user_info":{"name":"Nobody"}}');
    expect(frame.event).toBe(ERR);
    expect(dataOf(frame)).toEqual({ type: "InvalidChannelData", error: expect.any(String), status: 400 });
  });

  it("rejects an empty, boolean or over-128-character user_id with InvalidChannelData 400", async () => {
    for (const userId of ["", true, "x".repeat(129)]) {
      const frame = await invalid(JSON.stringify({ user_id: userId }));
      expect(frame.event).toBe(ERR);
      expect(dataOf(frame)).toEqual({ type: "InvalidChannelData", error: expect.any(String), status: 400 });
    }
    // 128 characters is the maximum, not over it.
    const ok = await invalid(JSON.stringify({ user_id: "x".repeat(128) }));
    expect(ok.event).toBe(ACK);
  });

  it("rejects user_info larger than 2 KB with LimitReached 413 and admits exactly 2 KB", async () => {
    const ch = "presence-size";
    // JSON.stringify({"b":"x…"}) is the string plus 8 bytes: 2040 x's make exactly 2048 bytes.
    const exact = await rawClient(server);
    const ok = await join(server, exact, ch, JSON.stringify({ user_id: "exact", user_info: { b: "x".repeat(2040) } }));
    expect(ok.event).toBe(ACK);
    const big = await rawClient(server);
    const frame = await join(server, big, ch, JSON.stringify({ user_id: "big", user_info: { b: "x".repeat(2041) } }));
    expect(frame.event).toBe(ERR);
    expect(dataOf(frame)).toEqual({ type: "LimitReached", error: expect.any(String), status: 413 });
    // The rejected joiner never became a member.
    expect(await exact.none(isMemberEvent(ch))).toBe(true);
    exact.close();
    big.close();
  });

  it("without channel_data and not signed in: InvalidChannelData 400", async () => {
    const client = await rawClient(server);
    const frame = await join(server, client, "presence-anon");
    expect(frame.event).toBe(ERR);
    expect(dataOf(frame)).toEqual({ type: "InvalidChannelData", error: expect.any(String), status: 400 });
    await roundTrip(client);
    client.close();
  });

  it("without channel_data a signed-in socket joins as its sign-in user (vector B2b)", async () => {
    const ch = "presence-room";
    const client = await rawClient(server);
    const userData = '{"id":"42","user_info":{"name":"Ada"}}';
    client.send({ event: "pusher:signin", data: { auth: authToken(server, `${client.socketId}::user::${userData}`), user_data: userData } });
    await client.next(byEvent("pusher:signin_success"));
    const observer = await member(ch, { user_id: "obs" });

    const ack = await join(server, client, ch);
    expect(ack.event).toBe(ACK);
    expect(dataOf(ack).presence).toEqual({ ids: expect.arrayContaining(["obs", "42"]), hash: { obs: null, "42": { name: "Ada" } }, count: 2 });
    expect(dataOf(await observer.next(byEvent("pusher_internal:member_added", ch)))).toEqual({ user_id: "42", user_info: { name: "Ada" } });
    client.close();
    observer.close();
  });

  it("a token signed over channel_data does not verify when channel_data is left out", async () => {
    const client = await rawClient(server);
    const channelData = '{"user_id":"42"}';
    client.send({ event: "pusher:subscribe", data: { channel: "presence-b2-neg", auth: authToken(server, `${client.socketId}:presence-b2-neg:${channelData}`) } });
    const frame = await client.next(byEvent(ERR, "presence-b2-neg"));
    expect(dataOf(frame)).toMatchObject({ type: "AuthError", status: 401 });
    client.close();
  });
});

describe("member limit (APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL=2)", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startServer({ env: { APP_MAX_PRESENCE_MEMBERS_PER_CHANNEL: "2" } });
  });
  afterAll(() => limited?.stop());

  it("rejects a third distinct member with LimitReached 403 but admits another socket of a member", async () => {
    const ch = "presence-full";
    const a = await member(ch, { user_id: "a" }, limited);
    const b = await member(ch, { user_id: "b" }, limited);
    await a.next(byEvent("pusher_internal:member_added", ch));

    const c = await rawClient(limited);
    const rejected = await join(limited, c, ch, '{"user_id":"c"}');
    expect(rejected.event).toBe(ERR);
    expect(dataOf(rejected)).toEqual({ type: "LimitReached", error: expect.any(String), status: 403 });
    expect(await a.none(isMemberEvent(ch))).toBe(true);

    const b2 = await rawClient(limited);
    const ack = await join(limited, b2, ch, '{"user_id":"b"}');
    expect(ack.event).toBe(ACK);
    expect(dataOf(ack).presence.count).toBe(2);

    // Once a member leaves there is room again.
    a.close();
    await b.next(byEvent("pusher_internal:member_removed", ch));
    const again = await join(limited, c, ch, '{"user_id":"c"}');
    expect(again.event).toBe(ACK);
    expect([...dataOf(again).presence.ids].sort()).toEqual(["b", "c"]);
    for (const s of [b, b2, c]) s.close();
  });
});

describe("pusher-js presence channel", () => {
  it("maintains members and emits pusher:member_added / pusher:member_removed", async () => {
    const alice = pusherClient(server, { presence: { user_id: "alice", user_info: { name: "Alice" } } });
    await connected(alice);
    const aliceChannel = alice.subscribe("presence-js") as any;
    const first = await once<any>(aliceChannel, "pusher:subscription_succeeded");
    expect(first.count).toBe(1);
    expect(first.me).toEqual({ id: "alice", info: { name: "Alice" } });

    const added = once<any>(aliceChannel, "pusher:member_added");
    const bob = pusherClient(server, { presence: { user_id: "bob", user_info: { name: "Bob" } } });
    const bobChannel = bob.subscribe("presence-js") as any;
    const bobMembers = await once<any>(bobChannel, "pusher:subscription_succeeded");
    expect(bobMembers.count).toBe(2);
    expect(bobMembers.get("alice")).toEqual({ id: "alice", info: { name: "Alice" } });
    expect(await added).toEqual({ id: "bob", info: { name: "Bob" } });

    const seen: Record<string, unknown> = {};
    aliceChannel.members.each((m: { id: string; info: unknown }) => (seen[m.id] = m.info));
    expect(seen).toEqual({ alice: { name: "Alice" }, bob: { name: "Bob" } });
    expect(aliceChannel.members.count).toBe(2);

    const removed = once<any>(aliceChannel, "pusher:member_removed");
    bob.disconnect();
    expect(await removed).toEqual({ id: "bob", info: { name: "Bob" } });
    expect(aliceChannel.members.count).toBe(1);
    alice.disconnect();
  });
});

describePresenceStorm({ label: "local", available: true, sizes: [1], start: async (_size, options) => [await startServer({ env: options.env })] });
describeSubscribeBurst({ label: "local", available: true, start: async (_size, options) => [await startServer({ env: options.env })] });
