// pusher-js and Laravel Echo in headless Chromium against the Workers build under a local workerd:
// the browser bundles of both clients, over the Durable Object's hibernatable sockets, with a
// private and a presence channel authorized as an app's auth endpoint would.
import { spawnSync } from "node:child_process";
import path from "node:path";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdk, sign } from "../../helpers/clients.ts";
import { launchChromium } from "../../helpers/console.ts";
import { ROOT, startServer, type TestServer } from "../../helpers/server.ts";

// Undefined (the file skips, saying why) when Chromium is not installed; CI fails instead.
const chromium = await launchChromium();
let server: TestServer | undefined;
let page: Page;

beforeAll(async () => {
  if (!chromium) return;
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts/build-workers.mjs"), "--if-stale"], { cwd: ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`npm run build:workers failed:\n${built.stderr}`);
  server = await startServer({ runtime: "workers", env: { APP_ENABLE_CLIENT_MESSAGES: "true" } });
  page = await chromium.browser.newPage();
  // The app's auth endpoint, played by the test: the page asks, Node signs.
  await page.exposeFunction("signAuth", (socketId: string, channel: string, channelData?: string) => {
    const signed = channelData ? `${socketId}:${channel}:${channelData}` : `${socketId}:${channel}`;
    return { auth: `${server!.key}:${sign(server!.secret, signed)}`, ...(channelData ? { channel_data: channelData } : {}) };
  });
  await page.addScriptTag({ path: path.join(ROOT, "node_modules/pusher-js/dist/web/pusher.min.js") });
  await page.addScriptTag({ path: path.join(ROOT, "node_modules/laravel-echo/dist/echo.iife.js") });
}, 120_000);
afterAll(async () => {
  await chromium?.close();
  await server?.stop();
});

/** Client options pointing at the server under test, and an authorizer that asks Node to sign. */
async function setUp(page: Page, server: TestServer, user: string): Promise<void> {
  await page.evaluate((o) => {
    const w = window as unknown as Record<string, any>;
    w.received = [];
    w.options = {
      key: o.key, wsHost: o.host, wsPort: o.port, forceTLS: false, enabledTransports: ["ws"], cluster: "", disableStats: true,
      authorizer: (channel: { name: string }) => ({
        authorize: (socketId: string, callback: (error: Error | null, data: unknown) => void) => {
          const data = channel.name.startsWith("presence-") ? JSON.stringify({ user_id: o.user, user_info: { name: o.user } }) : undefined;
          w.signAuth(socketId, channel.name, data).then((auth: unknown) => callback(null, auth), (e: Error) => callback(e, null));
        },
      }),
    };
  }, { key: server.key, host: server.host, port: server.port, user });
}

const received = () => page.evaluate(() => (window as unknown as { received: unknown[] }).received);

describe.skipIf(!chromium)("browser clients against the Workers build", () => {
  it("pusher-js: connects, subscribes to a public channel and receives a REST event", async () => {
    await setUp(page, server!, "ada");
    await page.evaluate(() => new Promise<void>((resolve) => {
      const w = window as unknown as Record<string, any>;
      const pusher = new w.Pusher(w.options.key, w.options);
      w.pusher = pusher;
      const channel = pusher.subscribe("news");
      channel.bind("update", (data: unknown) => w.received.push(["pusher-js", data]));
      channel.bind("pusher:subscription_succeeded", () => resolve());
    }));
    await sdk(server!).trigger("news", "update", { n: 1 });
    await page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length === 1, { timeout: 10_000 });
    expect(await received()).toEqual([["pusher-js", { n: 1 }]]);
    await page.evaluate(() => (window as unknown as { pusher: { disconnect(): void } }).pusher.disconnect());
  });

  it("Laravel Echo: a private channel's event and a presence channel's members", async () => {
    await setUp(page, server!, "grace");
    await page.evaluate(() => new Promise<void>((resolve) => {
      const w = window as unknown as Record<string, any>;
      const echo = new w.Echo.default({ broadcaster: "pusher", ...w.options, Pusher: w.Pusher });
      w.echo = echo;
      echo.private("orders").listen(".shipped", (e: unknown) => w.received.push(["private", e]));
      echo.join("room").here((users: { name: string }[]) => {
        w.received.push(["here", users.map((u) => u.name)]);
        resolve();
      });
    }));
    // The private channel's subscription went first; its ack is in once the presence one is.
    await page.waitForFunction(() => (window as any).echo.connector.channels["private-orders"].subscribed, { timeout: 10_000 });
    await sdk(server!).trigger("private-orders", "shipped", { id: 7 });
    await page.waitForFunction(() => (window as unknown as { received: unknown[] }).received.length === 2, { timeout: 10_000 });
    expect(await received()).toEqual([["here", ["grace"]], ["private", { id: 7 }]]);
    const users = (await (await sdk(server!).get({ path: "/channels/presence-room/users" })).json()) as { users: { id: string }[] };
    expect(users.users).toEqual([{ id: "grace" }]);
    await page.evaluate(() => (window as any).echo.disconnect());
  });
});
