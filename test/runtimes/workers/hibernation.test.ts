// The Workers runtime's hibernation under a real local workerd (runtimes/workers/): sockets that
// outlive their object's eviction, pusher:ping answered without waking it, presence and cache
// state rebuilt from the object's storage, and the sockets a restart (a deploy) drops announced
// by the rebuilt object. Eviction is not something a test can ask for: workerd evicts an idle
// object after 5-21 s here, so each check idles past that and then requires the rebuild's log line
// as proof that the object really was rebuilt.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { byEvent, dataOf, rawClient, sdk, type RawClient } from "../../helpers/clients.ts";
import { subscribe } from "../../helpers/rest.ts";
import { ROOT, startServer, type TestServer } from "../../helpers/server.ts";
import { startReceiver, type Receiver } from "../../helpers/webhook-receiver.ts";

/** Longer than workerd's local eviction of an idle object (5-21 s seen). */
const IDLE_MS = 25_000;
const ROUNDS = 3;
const REBUILT = /rebuilt after an eviction or restart: (\d+) socket\(s\) restored, (\d+) vanished/g;
const PING = '{"event":"pusher:ping","data":{}}';

beforeAll(() => {
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts/build-workers.mjs"), "--if-stale"], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`npm run build:workers failed:\n${built.stderr}`);
}, 120_000);

const clients: RawClient[] = [];
const servers: TestServer[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.kill()));
});

async function client(server: TestServer): Promise<RawClient> {
  const c = await rawClient(server);
  clients.push(c);
  return c;
}

async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startServer({ runtime: "workers", env: { APP_ENABLE_CLIENT_MESSAGES: "true", ...env } });
  servers.push(server);
  return server;
}

const rebuilds = (server: TestServer) => [...server.output().matchAll(REBUILT)].map((m) => ({ restored: Number(m[1]), vanished: Number(m[2]) }));

/**
 * Idles until the object was evicted: after each idle period `wake` runs (it must wake the
 * object); done once the object logged a rebuild after it. The sockets' pusher:ping is checked on
 * the way, before the wake, while the object is (likely) hibernated.
 */
async function idleUntilEvicted(server: TestServer, pinger: RawClient, wake: () => Promise<void>): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const before = rebuilds(server).length;
    await new Promise((r) => setTimeout(r, IDLE_MS));
    pinger.send(PING);
    expect(dataOf(await pinger.next(byEvent("pusher:pong")))).toEqual({});
    await wake();
    if (rebuilds(server).length > before) return;
  }
  throw new Error(`the object was not evicted in ${ROUNDS} idle periods of ${IDLE_MS} ms:\n${server.output()}`);
}

describe("hibernation", () => {
  it("keeps subscriptions, presence members and the cache across an eviction, and answers pusher:ping meanwhile", async () => {
    const server = await start();
    const rest = sdk(server);
    const alice = await client(server);
    const bob = await client(server);
    await subscribe(server, alice, "presence-room", { user_id: "alice" });
    await subscribe(server, bob, "presence-room", { user_id: "bob" });
    await subscribe(server, alice, "news");
    await rest.trigger("cache-ticker", "price", { v: 1 });

    let publishes = 0;
    await idleUntilEvicted(server, bob, async () => {
      await rest.trigger("news", "update", { n: ++publishes });
      // A later publish reaches the socket that was connected across the eviction.
      expect(dataOf(await alice.next(byEvent("update", "news")))).toEqual({ n: publishes });
    });
    expect(rebuilds(server).at(-1)).toEqual({ restored: 2, vanished: 0 });

    // The presence channel's members were rebuilt: the REST API lists both, and a leave is told.
    const users = (await (await rest.get({ path: "/channels/presence-room/users" })).json()) as { users: { id: string }[] };
    expect(users.users.map((u) => u.id).sort()).toEqual(["alice", "bob"]);
    bob.close();
    expect(dataOf(await alice.next(byEvent("pusher_internal:member_removed", "presence-room")))).toEqual({ user_id: "bob" });
    // The cache channel's last event was kept in storage.
    const carol = await client(server);
    await subscribe(server, carol, "cache-ticker");
    expect(dataOf(await carol.next(byEvent("price", "cache-ticker")))).toEqual({ v: 1 });
  }, ROUNDS * (IDLE_MS + 15_000) + 30_000);
});

describe("webhooks across an eviction", () => {
  let receiver: Receiver;
  afterAll(() => receiver?.close());

  it("an endpoint down across an eviction still receives every webhook once it is back", async () => {
    receiver = await startReceiver({ appId: "app-id", key: "app-key", secret: "app-secret" });
    let down = true;
    let refused = 0;
    receiver.answer = () => {
      if (!down) return 200;
      refused++;
      return 503;
    };
    const server = await start({ APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["channel_occupied", "channel_vacated"] }]) });
    const alice = await client(server);
    await subscribe(server, alice, "news");
    alice.send({ event: "pusher:unsubscribe", data: { channel: "news" } });
    // Retries back off (1 s, 2 s, 4 s, … 60 s): within a few of them the object idles long enough
    // to be evicted; its alarm then rebuilds it, and the stored jobs are sent again.
    const pending = /webhooks: (\d+) delivery\(ies\) pending from before an eviction/;
    const deadline = Date.now() + ROUNDS * (IDLE_MS + 20_000);
    while (!pending.test(server.output())) {
      if (Date.now() > deadline) throw new Error(`no rebuild with pending webhooks:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(refused).toBeGreaterThan(0);
    down = false;
    // Every event once, in order: the vacancy waited behind the occupancy all along.
    const events = await receiver.waitFor((all) => all.some((e) => e.name === "channel_vacated"), 90_000);
    expect(events.map((e) => `${e.name} ${e.channel}`)).toEqual(["channel_occupied news", "channel_vacated news"]);
  }, ROUNDS * (IDLE_MS + 20_000) + 120_000);
});

describe("a restart (a deploy drops every socket without a close event)", () => {
  let receiver: Receiver;
  let storage: string;
  beforeAll(async () => {
    receiver = await startReceiver({ appId: "app-id", key: "app-key", secret: "app-secret" });
    storage = mkdtempSync(path.join(tmpdir(), "switchboard-do-"));
  });
  afterAll(async () => {
    await receiver.close();
    rmSync(storage, { recursive: true, force: true });
  });

  it("announces member_removed and channel_vacated for the vanished sockets, with their webhooks", async () => {
    const env = {
      WORKERD_STORAGE_DIR: storage,
      APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["channel_occupied", "channel_vacated", "member_added", "member_removed"] }]),
    };
    const first = await start(env);
    const alice = await client(first);
    await subscribe(first, alice, "presence-room", { user_id: "alice" });
    await subscribe(first, alice, "news");
    await receiver.waitFor((events) => events.some((e) => e.name === "member_added") && events.filter((e) => e.name === "channel_occupied").length === 2);
    // SIGKILL: workerd goes with the launcher, no socket gets a close event.
    await first.kill("SIGKILL");
    servers.splice(servers.indexOf(first), 1);

    const second = await start(env);
    const events = await receiver.waitFor((all) => all.filter((e) => e.name === "channel_vacated").length === 2);
    expect(events.filter((e) => e.name === "member_removed").map((e) => [e.channel, e.user_id])).toEqual([["presence-room", "alice"]]);
    expect(events.filter((e) => e.name === "channel_vacated").map((e) => e.channel).sort()).toEqual(["news", "presence-room"]);
    expect(rebuilds(second)).toEqual([{ restored: 0, vanished: 1 }]);
  }, 90_000);
});
