// The console's HTTP API without a browser: when it is on, sign-in refusals, the page-origin
// header, isolation between apps (an app session sees its app only, a forged cookie is refused),
// the operator token, the trigger's validation, that no answer ever carries a secret, and the
// sign-in lockout (last: it locks this test's address).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawClient, sdk } from "../helpers/clients.ts";
import { call, openStream, signIn, type Stream } from "../helpers/console.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const APP_B = { id: "app-b", key: "key-b", secret: "secret-b-0123456789" };
const TOKEN = "operator-token-0123456789";
const SECRETS = ["app-secret", APP_B.secret, TOKEN];

let server: TestServer;
const serverB = () => ({ ...server, appId: APP_B.id, key: APP_B.key, secret: APP_B.secret });
/** Every answer's text, checked for secrets at the end. */
const answers: string[] = [];
const streams: Stream[] = [];
const track = <T extends { text: string }>(r: T) => (answers.push(r.text), r);

beforeAll(async () => {
  server = await startServer({ env: { APPS: JSON.stringify([APP_B]), CONSOLE_ENABLED: "true", CONSOLE_TOKEN: TOKEN } });
});
afterAll(async () => {
  for (const s of streams) s.close();
  await server?.stop();
});

describe("when the console is served", () => {
  it("is off by default when apps are configured, and on for the development app", async () => {
    const configured = await startServer({});
    const dev = await startServer({ defaultApp: false });
    try {
      expect((await call(configured, "GET", "")).status).toBe(404);
      const page = await call(dev, "GET", "");
      expect(page.status).toBe(200);
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      // Every console answer, the API's too, carries the security headers; HSTS is left to the operator.
      for (const r of [page, await call(dev, "GET", "/api/session")]) {
        expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
        expect(r.headers.get("x-content-type-options")).toBe("nosniff");
        expect(r.headers.get("referrer-policy")).toBe("no-referrer");
        expect(r.headers.get("x-frame-options")).toBe("DENY");
        expect(r.headers.get("strict-transport-security")).toBeNull();
      }
      expect((await call(dev, "GET", "/console.js")).text).toContain("EventSource");
      expect(dev.output()).toContain("/console");
    } finally {
      await Promise.all([configured.stop(), dev.stop()]);
    }
  });
});

describe("sign-in", () => {
  it("refuses a wrong secret and an unknown app alike, without a cookie", async () => {
    const wrong = track(await call(server, "POST", "/api/session", { body: { appId: "app-id", secret: "nope" } }));
    const unknown = track(await call(server, "POST", "/api/session", { body: { appId: "no-such-app", secret: "nope" } }));
    for (const r of [wrong, unknown]) {
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: "Wrong app id or secret" });
      expect(r.cookie).toBeUndefined();
    }
  });

  it("signing out ends the session on the server: a copy of the cookie is refused afterwards", async () => {
    const cookie = await signIn(server, { appId: "app-id", secret: "app-secret" });
    expect((await call(server, "GET", "/api/session", { cookie })).status).toBe(200);
    const out = track(await call(server, "DELETE", "/api/session", { cookie }));
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    // The browser dropped its copy; a copy taken before (a leaked cookie) no longer works either.
    const reused = track(await call(server, "GET", "/api/session", { cookie }));
    expect([reused.status, reused.json]).toEqual([401, { error: "Signed out" }]);
    expect((await call(server, "GET", "/api/apps", { cookie })).status).toBe(401);
    // Another sign-in gets a session of its own.
    const again = await signIn(server, { appId: "app-id", secret: "app-secret" });
    expect((await call(server, "GET", "/api/session", { cookie: again })).status).toBe(200);
  });

  it("needs the page's header, so another site's form cannot sign in or trigger", async () => {
    const r = track(await call(server, "POST", "/api/session", { body: { appId: "app-id", secret: "app-secret" }, csrf: false }));
    expect(r.status).toBe(403);
  });

  it("sets an HttpOnly, SameSite=Strict cookie scoped to the console", async () => {
    const r = track(await call(server, "POST", "/api/session", { body: { appId: "app-id", secret: "app-secret" } }));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ kind: "app", appId: "app-id", expires: expect.any(Number) });
    const header = r.headers.get("set-cookie")!;
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/SameSite=Strict/);
    expect(header).toMatch(/Path=\/console/);
  });

  it("refuses requests without a session, or with a tampered one", async () => {
    expect(track(await call(server, "GET", "/api/session")).status).toBe(401);
    const cookie = await signIn(server, { appId: "app-id", secret: "app-secret" });
    const [name, value] = cookie.split("=");
    const [payload, signature] = value!.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const forged = `${name}=${Buffer.from(JSON.stringify({ ...claims, a: APP_B.id })).toString("base64url")}.${signature}`;
    expect(track(await call(server, "GET", "/api/session", { cookie: forged })).status).toBe(401);
    const operator = `${name}=${Buffer.from(JSON.stringify({ k: "op", e: claims.e })).toString("base64url")}.${signature}`;
    expect(track(await call(server, "GET", "/api/apps", { cookie: operator })).status).toBe(401);
    const stream = await openStream(server, forged);
    expect(stream.status).toBe(401);
  });
});

describe("isolation between apps", () => {
  it("an app session sees its own app's events and never another's", async () => {
    const cookie = await signIn(server, { appId: "app-id", secret: "app-secret" });
    const stream = await openStream(server, cookie);
    streams.push(stream);
    expect(stream.status).toBe(200);
    await sdk(serverB()).trigger("b-channel", "b-event", { secret: "of b" });
    await sdk(server).trigger("a-channel", "a-event", {});
    await stream.waitFor((r) => r.event === "a-event");
    const client = await rawClient(serverB());
    client.close();
    await sdk(server).trigger("a-channel", "a-marker", {});
    await stream.waitFor((r) => r.event === "a-marker");
    expect(stream.rows.filter((r) => r.event === "b-event" || r.channel === "b-channel")).toEqual([]);
    expect(stream.rows.filter((r) => r.kind === "connection_opened")).toEqual([]);
    answers.push(...stream.raw);
  });

  it("an app session cannot ask for another app", async () => {
    const cookie = await signIn(server, { appId: "app-id", secret: "app-secret" });
    const other = `?app=${APP_B.id}`;
    expect((await openStream(server, cookie, other)).status).toBe(403);
    expect(track(await call(server, "GET", `/api/members${other}&channel=presence-x`, { cookie })).status).toBe(403);
    const trigger = track(await call(server, "POST", `/api/events${other}`, { cookie, body: { name: "x", channels: ["c"], data: "{}" } }));
    expect(trigger.status).toBe(403);
    expect(track(await call(server, "GET", "/api/apps", { cookie })).json).toEqual({ apps: ["app-id"] });
  });

  it("the operator token sees every app, by id only", async () => {
    const cookie = await signIn(server, { token: TOKEN });
    const apps = track(await call(server, "GET", "/api/apps", { cookie }));
    expect(apps.json.apps).toEqual(["app-b", "app-id"]);
    const stream = await openStream(server, cookie, `?app=${APP_B.id}`);
    streams.push(stream);
    await sdk(serverB()).trigger("b-channel", "b-seen", {});
    await stream.waitFor((r) => r.event === "b-seen");
    expect((await openStream(server, cookie)).status).toBe(400); // an operator names the app
    answers.push(...stream.raw);
  });

  it("refuses a wrong operator token", async () => {
    const r = track(await call(server, "POST", "/api/session", { body: { token: "operator-token-wrong" } }));
    expect(r.status).toBe(401);
  });
});

describe("triggering from the console", () => {
  it("goes through the REST API's validation", async () => {
    const cookie = await signIn(server, { appId: "app-id", secret: "app-secret" });
    const reserved = track(await call(server, "POST", "/api/events", { cookie, body: { name: "pusher:x", channels: ["c"], data: "{}" } }));
    expect(reserved.status).toBe(400);
    const badJson = track(await call(server, "POST", "/api/events", { cookie, body: { name: "x", channels: ["c"], data: "{nope" } }));
    expect(badJson.status).toBe(400);
    expect(badJson.json.error).toMatch(/not valid JSON/);
    const ok = track(await call(server, "POST", "/api/events", { cookie, body: { name: "x", channels: ["c"], data: "{}" } }));
    expect(ok.status).toBe(200);
    const noCsrf = track(await call(server, "POST", "/api/events", { cookie, body: { name: "x", channels: ["c"], data: "{}" }, csrf: false }));
    expect(noCsrf.status).toBe(403);
  });
});

describe("secrets", () => {
  it("appear in no answer", async () => {
    answers.push((await call(server, "GET", "")).text, (await call(server, "GET", "/console.js")).text);
    for (const text of answers) for (const secret of SECRETS) expect(text).not.toContain(secret);
  });
});

describe("brute force", () => {
  it("locks an app's sign-in after repeated failures, even for the right secret", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await call(server, "POST", "/api/session", { body: { appId: APP_B.id, secret: `guess-${i}` } })).status);
    // Five failures are free per account and per address; this address failed a few times above.
    expect(statuses[0]).toBe(401);
    expect(statuses.slice(5)).toEqual([429, 429]);
    const right = await call(server, "POST", "/api/session", { body: { appId: APP_B.id, secret: APP_B.secret } });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(server.output()).toMatch(/console: sign-in as app app-b refused .*locked for/);
  });
});
