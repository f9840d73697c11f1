// The debug console driven as a person would, in headless Chromium: sign in (a wrong secret first),
// watch a pusher-js client connect, subscribe and join a presence channel, see a REST event, send
// an event from the form to a pusher-js client, look at a presence channel's members, filter.
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connected, once, pusherClient, sdk } from "../helpers/clients.ts";
import { consoleUrl, launchChromium } from "../helpers/console.ts";
import { ROOT, startServer, type TestServer } from "../helpers/server.ts";

// Undefined (the file skips, saying why) when Chromium is not installed; CI fails instead.
const chromium = await launchChromium();
let server: TestServer | undefined;
let page: Page;
const clients: { disconnect(): void }[] = [];

beforeAll(async () => {
  if (!chromium) return;
  server = await startServer({ env: { CONSOLE_ENABLED: "true", APP_ENABLE_CLIENT_MESSAGES: "true" } });
  page = await chromium.browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
}, 30_000);
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await chromium?.close();
  await server?.stop();
});

/** Waits for a row of the event list with these data-* attributes. */
const row = (attrs: Record<string, string>) =>
  page.waitForSelector(`#log li${Object.entries(attrs).map(([k, v]) => `[data-${k}="${v}"]`).join("")}`, { timeout: 5000 });
const text = (selector: string) => page.$eval(selector, (el) => el.textContent ?? "");

describe.skipIf(!chromium)("debug console in Chromium", () => {
  it("refuses a wrong secret, then signs in with the right one", async () => {
    const s = server!;
    await page.goto(consoleUrl(s));
    await page.waitForSelector("#signin:not([hidden])");
    await page.type("input[name=appId]", s.appId);
    await page.type("input[name=secret]", "not-the-secret");
    await page.click("#signin-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("signin-error")!.textContent !== "");
    expect(await text("#signin-error")).toBe("Wrong app id or secret");
    expect(await page.$eval("#dash", (el) => (el as HTMLElement).hidden)).toBe(true);

    await page.type("input[name=appId]", ""); // the id is still filled in
    await page.type("input[name=secret]", s.secret);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("#dash:not([hidden])");
    await page.waitForFunction(() => document.getElementById("feed-status")!.textContent === "live");
    expect(await text("#who")).toBe(`App ${s.appId}`);
    // The secret never reaches the page: not in its text, not in a script-readable cookie.
    expect(await page.content()).not.toContain(s.secret);
    expect(await page.evaluate(() => document.cookie)).toBe("");
  });

  it("shows a pusher-js client connecting, subscribing and joining a presence channel", async () => {
    const s = server!;
    const client = pusherClient(s, { presence: { user_id: "alice", user_info: { name: "Alice" } } });
    clients.push(client);
    await connected(client);
    const socketId = client.connection.socket_id;
    await row({ kind: "connection_opened" });
    const presence = client.subscribe("presence-room");
    await once(presence, "pusher:subscription_succeeded");
    await row({ kind: "subscribed", channel: "presence-room" });
    await row({ kind: "member_added", channel: "presence-room" });
    await row({ kind: "channel_occupied", channel: "presence-room" });
    expect(await page.$eval('#log li[data-kind="connection_opened"]', (el) => el.textContent)).toContain(socketId);
    await page.waitForFunction(() => document.getElementById("connections")!.textContent === "1");
    await page.waitForSelector('#channels tr[data-channel="presence-room"]');
    expect(await page.$eval('#channels tr[data-channel="presence-room"]', (tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)))
      .toEqual(["presence-room", "1", "1"]);

    await page.click('#channels tr[data-channel="presence-room"] button');
    await page.waitForSelector("#members:not([hidden]) #members-list li");
    expect(await text("#members-list")).toContain("alice");
    expect(await text("#members-list")).toContain("Alice");
  });

  it("shows an event published through the REST API", async () => {
    await sdk(server!).trigger("news", "headline", { title: "hello" });
    await row({ kind: "api_publish", channel: "news", event: "headline" });
  });

  it("sends an event from the form that a pusher-js client receives", async () => {
    const client = pusherClient(server!);
    clients.push(client);
    const channel = client.subscribe("form-channel");
    await once(channel, "pusher:subscription_succeeded");
    const received = once<any>(channel, "from-console");
    await page.type("#send-form input[name=channel]", "form-channel");
    await page.type("#send-form input[name=name]", "from-console");
    await page.$eval("#send-form textarea[name=data]", (el) => ((el as HTMLTextAreaElement).value = '{"n": 42}'));
    await page.click("#send-form button[type=submit]");
    expect(await received).toEqual({ n: 42 });
    await page.waitForFunction(() => document.getElementById("send-result")!.textContent!.startsWith("Sent"));
    await row({ kind: "api_publish", channel: "form-channel", event: "from-console" });
  });

  it("filters by channel and event name, pauses, and clears", async () => {
    await page.type("#f-channel", "news");
    const visible = () => page.$$eval("#log li:not([hidden])", (lis) => lis.map((li) => (li as HTMLElement).dataset.channel));
    expect(new Set(await visible())).toEqual(new Set(["news"]));
    await page.$eval("#f-channel", (el) => ((el as HTMLInputElement).value = ""));
    await page.type("#f-event", "from-console");
    expect(await page.$$eval("#log li:not([hidden])", (lis) => lis.map((li) => (li as HTMLElement).dataset.event))).toEqual(["from-console"]);
    await page.$eval("#f-event", (el) => ((el as HTMLInputElement).value = ""));
    await page.type("#f-event", " "); // an input event with an empty filter shows everything again

    if (process.env.CONSOLE_SCREENSHOT) {
      const file = path.join(ROOT, "docs/console.png");
      writeFileSync(file, await page.screenshot({ type: "png" }));
    }

    await page.click("#pause");
    await sdk(server!).trigger("news", "while-paused", {});
    await page.waitForFunction(() => document.getElementById("notice")!.textContent!.includes("1 new event held"));
    expect(await page.$('#log li[data-event="while-paused"]')).toBeNull();
    await page.click("#pause");
    await row({ event: "while-paused" });
    await page.click("#clear");
    expect(await page.$$eval("#log li", (lis) => lis.length)).toBe(0);
  });
});
