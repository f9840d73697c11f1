// POST /apps/{id}/batch_events through the official pusher SDK (spec §6.4, checklist 55-56):
// all-or-nothing validation, array order, and per-item info.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdk, type Frame, type RawClient } from "../helpers/clients.ts";
import { outcome, sdkPost, subscribed } from "../helpers/rest.ts";
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

let n = 0;
const unique = (prefix = "ch") => `${prefix}-batch-${++n}`;
const sub = async (channel: string, member?: { user_id: string; user_info?: unknown }) => {
  const client = await subscribed(server, channel, member);
  open.push(client);
  return client;
};
const appEvent = (client: RawClient, channel: string) => client.next((f: Frame) => f.channel === channel && !f.event.startsWith("pusher"));
type Item = { name: string; channel?: string; channels?: string[]; data: unknown; socket_id?: string; info?: string };
const batch = (items: Item[]) => outcome(sdk(server).triggerBatch(items as any));
const rawBatch = (body: unknown) => sdkPost(sdk(server), "/batch_events", body);

/** Proves `client` received nothing on `channel` since its last read: the next event is a fresh marker. */
async function receivedNothing(client: RawClient, channel: string): Promise<void> {
  expect((await outcome(sdk(server).trigger(channel, "marker", "m"))).status).toBe(200);
  expect(await appEvent(client, channel)).toMatchObject({ event: "marker", data: "m" });
}

describe("POST /batch_events", () => {
  it("answers vector B8 with {batch:[{},{user_count:1}]} when one member is present", async () => {
    const presence = await sub("presence-room", { user_id: "42", user_info: { name: "Ada" } });
    const plain = await sub("ch-1");
    const res = await batch([
      { name: "a", channel: "ch-1", data: '{"n":1}' },
      { name: "b", channel: "presence-room", data: '{"n":2}', info: "user_count" },
    ]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ batch: [{}, { user_count: 1 }] });
    expect(await appEvent(plain, "ch-1")).toEqual({ event: "a", channel: "ch-1", data: '{"n":1}' });
    expect(await appEvent(presence, "presence-room")).toEqual({ event: "b", channel: "presence-room", data: '{"n":2}' });
  });

  it("answers {} when no item asks for info", async () => {
    const res = await batch([{ name: "a", channel: unique(), data: "x" }]);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
  });

  it("returns subscription_count per item and omits user_count on non-presence channels", async () => {
    const c = unique();
    await sub(c);
    await sub(c);
    const res = await batch([
      { name: "a", channel: c, data: "x", info: "subscription_count,user_count" },
      { name: "b", channel: unique(), data: "x" },
      { name: "c", channel: unique(), data: "x", info: "subscription_count" },
    ]);
    expect(res.json).toEqual({ batch: [{ subscription_count: 2 }, {}, { subscription_count: 0 }] });
  });

  it("publishes 10 items in array order", async () => {
    const c = unique();
    const raw = await sub(c);
    const items = Array.from({ length: 10 }, (_, i) => ({ name: `e${i}`, channel: c, data: String(i) }));
    expect((await batch(items)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect(await appEvent(raw, c)).toEqual({ event: `e${i}`, channel: c, data: String(i) });
  });

  it("rejects 11 items with 400 and publishes none of them", async () => {
    const c = unique();
    const raw = await sub(c);
    const res = await batch(Array.from({ length: 11 }, (_, i) => ({ name: `e${i}`, channel: c, data: String(i) })));
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: expect.any(String) });
    await receivedNothing(raw, c);
  });

  it.each<[string, Item, number]>([
    ["an invalid channel name", { name: "bad", channel: "no spaces allowed", data: "x" }, 400],
    ["a reserved event name", { name: "pusher:bad", channel: "ok-channel", data: "x" }, 400],
    ["a 201-character event name", { name: "e".repeat(201), channel: "ok-channel", data: "x" }, 400],
    ["an invalid socket_id", { name: "bad", channel: "ok-channel", data: "x", socket_id: "abc" }, 400],
    ["missing data", { name: "bad", channel: "ok-channel" } as Item, 400],
    ["no channel", { name: "bad", data: "x" }, 400],
    ["data over 10 KB", { name: "bad", channel: "ok-channel", data: "x".repeat(10241) }, 413],
  ])("rejects the whole batch when one item has %s, delivering nothing", async (_name, badItem, status) => {
    const c = unique();
    const raw = await sub(c);
    const res = await rawBatch({ batch: [
      { name: "first", channel: c, data: "1" },
      badItem,
      { name: "last", channel: c, data: "3" },
    ] });
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ error: expect.any(String) });
    await receivedNothing(raw, c);
  });

  it.each<[string, unknown]>([
    ["an empty batch", { batch: [] }],
    ["no batch field", { events: [] }],
    ["a batch that is not an array", { batch: { name: "e", channel: "c", data: "x" } }],
    ["a batch item that is not an object", { batch: ["e"] }],
  ])("rejects %s with 400", async (_name, body) => {
    const res = await rawBatch(body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error: expect.any(String) });
  });

  it("accepts an item with a channels array; its info describes the first channel", async () => {
    const [c1, c2] = [unique(), unique()];
    const r1 = await sub(c1);
    const r2 = await sub(c2);
    await sub(c1);
    const res = await rawBatch({ batch: [{ name: "multi", channels: [c1, c2], data: "x", info: "subscription_count" }] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ batch: [{ subscription_count: 2 }] });
    expect(await appEvent(r1, c1)).toMatchObject({ event: "multi" });
    expect(await appEvent(r2, c2)).toMatchObject({ event: "multi" });
  });

  it("honours socket_id exclusion per item", async () => {
    const c = unique();
    const excluded = await sub(c);
    const other = await sub(c);
    const res = await batch([
      { name: "not-for-you", channel: c, data: "1", socket_id: excluded.socketId! },
      { name: "for-all", channel: c, data: "2" },
    ]);
    expect(res.status).toBe(200);
    expect(await appEvent(other, c)).toMatchObject({ event: "not-for-you" });
    expect(await appEvent(other, c)).toMatchObject({ event: "for-all" });
    expect(await appEvent(excluded, c)).toMatchObject({ event: "for-all" });
  });
});
