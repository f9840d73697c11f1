// REST request authentication, app lookup and app isolation on a real server with three apps
// (spec §6.1-6.2, checklist 47-48 and 63), plus the unauthenticated health endpoints (§6.11).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdk, type Frame, type RawClient, rawClient } from "../helpers/clients.ts";
import { outcome, send, signedRequest, subscribed } from "../helpers/rest.ts";
import { runtimeFeatures, startServer, type TestServer } from "../helpers/server.ts";

const APP_B = { id: "app-b", key: "key-b", secret: "secret-b" };
const APP_OFF = { id: "app-off", key: "key-off", secret: "secret-off" };

let server: TestServer;
let serverB: TestServer; // the same process seen through app B's credentials
const open: RawClient[] = [];
beforeAll(async () => {
  server = await startServer({ env: { APPS: JSON.stringify([APP_B, { ...APP_OFF, enabled: false }]) } });
  serverB = { ...server, appId: APP_B.id, key: APP_B.key, secret: APP_B.secret };
});
afterAll(async () => {
  for (const c of open) c.close();
  await server?.stop();
});

const EVENT = JSON.stringify({ name: "my-event", data: '{"hello":"world"}', channels: ["auth-channel"] });
const now = () => Math.floor(Date.now() / 1000);
const expect401 = (res: { status: number; json: any }) => {
  expect(res.status).toBe(401);
  expect(res.json).toEqual({ error: expect.any(String) });
};

describe("request signatures (401)", () => {
  it("accepts a correctly hand-signed request (the baseline for the cases below)", async () => {
    const res = await signedRequest(server, "POST", "/events", EVENT);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json).toEqual({});
  });

  it("rejects a tampered signature", async () => {
    expect401(await signedRequest(server, "POST", "/events", EVENT, {
      mutateQuery: (q) => q.replace(/auth_signature=(.)/, (_m, c: string) => `auth_signature=${c === "0" ? "1" : "0"}`),
    }));
  });

  it("rejects the correct signature upper-cased", async () => {
    expect401(await signedRequest(server, "POST", "/events", EVENT, {
      mutateQuery: (q) => q.replace(/auth_signature=([0-9a-f]+)/, (_m, sig: string) => `auth_signature=${sig.toUpperCase()}`),
    }));
  });

  it("rejects a request signed with the wrong secret, also through the SDK", async () => {
    expect401(await signedRequest(server, "POST", "/events", EVENT, { secret: "not-the-secret" }));
    expect401(await outcome(sdk(server, server.appId, server.key, "not-the-secret").trigger("auth-channel", "e", "x")));
  });

  it("rejects auth_timestamp more than 600 s in the past or future", async () => {
    expect401(await signedRequest(server, "POST", "/events", EVENT, { timestamp: now() - 700 }));
    expect401(await signedRequest(server, "POST", "/events", EVENT, { timestamp: now() + 700 }));
    expect401(await signedRequest(server, "GET", "/channels", undefined, { timestamp: now() - 3600 }));
    // Well inside the window is fine.
    expect((await signedRequest(server, "POST", "/events", EVENT, { timestamp: now() - 300 })).status).toBe(200);
  });

  it("rejects a body_md5 that does not match the body, even when signed", async () => {
    const otherMd5 = "99914b932bd37a50b983c5e7c90ae93b"; // md5("{}")
    expect401(await signedRequest(server, "POST", "/events", EVENT, { bodyMd5: otherMd5 }));
  });

  it("rejects a non-empty body without body_md5", async () => {
    expect401(await signedRequest(server, "POST", "/events", EVENT, { bodyMd5: null }));
  });

  it("rejects another app's key, whichever secret signed it", async () => {
    expect401(await signedRequest(server, "POST", "/events", EVENT, { key: APP_B.key, secret: APP_B.secret }));
    expect401(await signedRequest(server, "POST", "/events", EVENT, { key: APP_B.key }));
    expect401(await outcome(sdk(server, server.appId, APP_B.key, APP_B.secret).trigger("auth-channel", "e", "x")));
  });

  it("rejects requests missing the auth parameters", async () => {
    expect401(await send(server, "POST", `/apps/${server.appId}/events`, EVENT));
    expect401(await send(server, "GET", `/apps/${server.appId}/channels`));
  });

  it("signs GET query parameters too: changing one after signing fails", async () => {
    expect401(await signedRequest(server, "GET", "/channels", undefined, {
      params: { filter_by_prefix: "a-" },
      mutateQuery: (q) => q.replace("filter_by_prefix=a-", "filter_by_prefix=b-"),
    }));
  });
});

describe("app lookup", () => {
  it("answers an unknown app id with 404 {error}", async () => {
    const res = await outcome(sdk(server, "no-such-app").trigger("c", "e", "x"));
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: expect.any(String) });
    expect((await outcome(sdk(server, "no-such-app").get({ path: "/channels" }))).status).toBe(404);
  });

  it("answers a disabled app with 403 once the signature is valid, 401 before that", async () => {
    const off = sdk(server, APP_OFF.id, APP_OFF.key, APP_OFF.secret);
    const res = await outcome(off.trigger("c", "e", "x"));
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: expect.any(String) });
    expect((await outcome(off.get({ path: "/channels" }))).status).toBe(403);
    expect((await outcome(sdk(server, APP_OFF.id, APP_OFF.key, "wrong").trigger("c", "e", "x"))).status).toBe(401);
  });

  it("serves a second enabled app with its own credentials", async () => {
    expect((await outcome(sdk(serverB).trigger("c", "e", "x"))).status).toBe(200);
  });

  it.each<[string, string]>([
    ["GET", "/nope"],
    ["GET", "/apps/app-id/nope"],
    ["POST", "/apps/app-id/channels"],
    ["GET", "/apps/app-id/events"],
    ["DELETE", "/apps/app-id/channels/x"],
  ])("answers unknown route %s %s with 404 JSON", async (method, path) => {
    const res = await send(server, method, path);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json).toEqual({ error: expect.any(String) });
  });
});

describe("app isolation", () => {
  const appEvent = (client: RawClient, channel: string) => client.next((f: Frame) => f.channel === channel && !f.event.startsWith("pusher"));

  it("never delivers app A's events to app B's subscribers of the same channel name", async () => {
    const onA = await subscribed(server, "shared");
    const onB = await subscribed(serverB, "shared");
    open.push(onA, onB);
    expect((await outcome(sdk(server).trigger("shared", "from-a", "a"))).status).toBe(200);
    expect((await outcome(sdk(serverB).trigger("shared", "from-b", "b"))).status).toBe(200);
    // Had "from-a" leaked to B it would be B's first event, since it was published first.
    expect(await appEvent(onA, "shared")).toMatchObject({ event: "from-a" });
    expect(await appEvent(onB, "shared")).toMatchObject({ event: "from-b" });
    // Likewise A's next event is this marker, not B's "from-b".
    expect((await outcome(sdk(server).trigger("shared", "marker", "m"))).status).toBe(200);
    expect(await appEvent(onA, "shared")).toMatchObject({ event: "marker" });
  });

  it("keeps channel listings and counts per app", async () => {
    const onlyB = await subscribed(serverB, "presence-only-b", { user_id: "b-user" });
    open.push(onlyB);
    const listA = await outcome(sdk(server).get({ path: "/channels", params: { filter_by_prefix: "presence-only-b" } }));
    expect(listA.json).toEqual({ channels: {} });
    const listB = await outcome(sdk(serverB).get({ path: "/channels", params: { filter_by_prefix: "presence-only-b" } }));
    expect(listB.json).toEqual({ channels: { "presence-only-b": {} } });
    const usersA = await outcome(sdk(server).get({ path: "/channels/presence-only-b/users" }));
    expect(usersA.json).toEqual({ users: [] });
  });

  it("a socket_id of app B's socket does not exclude anyone in app A", async () => {
    const onA = await subscribed(server, "shared-2");
    const onB = await rawClient(serverB);
    open.push(onA, onB);
    expect((await outcome(sdk(server).trigger("shared-2", "e", "x", { socket_id: onB.socketId! }))).status).toBe(200);
    expect(await appEvent(onA, "shared-2")).toMatchObject({ event: "e" });
  });
});

describe("health endpoints (no auth)", () => {
  it("GET / answers 200 OK", async () => {
    const res = await send(server, "GET", "/");
    expect(res.status).toBe(200);
    expect(res.text).toBe("OK");
  });

  it("GET /ready and GET /up answer 200 while serving", async () => {
    const ready = await send(server, "GET", "/ready");
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ ready: true });
    const up = await send(server, "GET", "/up");
    expect(up.status).toBe(200);
    expect(up.json).toEqual({ ok: true });
  });

  it("GET /up/{app_id}: 200 for an app, 404 for an unknown one, 403 for a disabled one", async () => {
    expect((await send(server, "GET", `/up/${server.appId}`)).status).toBe(200);
    expect((await send(server, "GET", `/up/${APP_B.id}`)).status).toBe(200);
    const unknown = await send(server, "GET", "/up/no-such-app");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: expect.any(String) });
    expect((await send(server, "GET", `/up/${APP_OFF.id}`)).status).toBe(403);
  });

  it.runIf(runtimeFeatures.memoryFigures)("GET /usage reports memory and the live connection count as JSON", async () => {
    const client = await rawClient(server);
    open.push(client);
    const res = await send(server, "GET", "/usage");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json).toEqual({
      memory: { rss: expect.any(Number), heapTotal: expect.any(Number), heapUsed: expect.any(Number) },
      connections: expect.any(Number),
    });
    expect(res.json.connections).toBeGreaterThanOrEqual(1);
  });
});
