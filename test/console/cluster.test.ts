// The console on a 3-node Redis cluster, in headless Chromium: a browser signed in on node 0 (the
// only one serving the page) sees connections, subscriptions, presence joins and REST publishes
// made on every node, the cluster's connection count, and a presence channel's members wherever
// they joined.
import type { Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reachable, requireService, startNode, subscribed, uniquePrefix } from "../adapters/cluster.ts";
import { sdk, type RawClient } from "../helpers/clients.ts";
import { consoleUrl, launchChromium } from "../helpers/console.ts";
import type { TestServer } from "../helpers/server.ts";

const redis = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");
const chromium = redis ? await launchChromium() : undefined;
let nodes: TestServer[] = [];
let page: Page;
const clients: RawClient[] = [];

beforeAll(async () => {
  if (!chromium) return;
  // Only node 0 serves the page; the other two relay their events to it all the same.
  const prefix = uniquePrefix("console");
  nodes = await Promise.all([
    startNode({ prefix, env: { CONSOLE_ENABLED: "true" } }),
    startNode({ prefix }),
    startNode({ prefix }),
  ]);
  page = await chromium.browser.newPage();
}, 30_000);
afterAll(async () => {
  for (const c of clients) c.close();
  await chromium?.close();
  await Promise.all(nodes.map((n) => n.stop()));
});

const rowsOf = (kind: string) => page.$$eval(`#log li[data-kind="${kind}"]`, (lis) => lis.map((li) => ({
  node: (li as HTMLElement).dataset.node, channel: (li as HTMLElement).dataset.channel, event: (li as HTMLElement).dataset.event,
})));

describe.skipIf(!chromium)("debug console on a 3-node cluster", () => {
  it("shows the events, connections and members of every node", async () => {
    const [a, b, c] = nodes as [TestServer, TestServer, TestServer];
    expect((await fetch(consoleUrl(b))).status).toBe(404);
    await page.goto(consoleUrl(a));
    await page.waitForSelector("#signin:not([hidden])");
    await page.type("input[name=appId]", a.appId);
    await page.type("input[name=secret]", a.secret);
    await page.click("#signin-form button[type=submit]");
    await page.waitForFunction(() => document.getElementById("feed-status")!.textContent === "live");
    // The other nodes start forwarding once they hear this node's first "watch".
    await page.waitForFunction(() => document.getElementById("nodes")!.textContent === "3", { timeout: 10_000 });

    clients.push(await subscribed(b, "presence-lobby", { user_id: "bob" }));
    clients.push(await subscribed(c, "presence-lobby", { user_id: "carol" }));
    await sdk(a).trigger("news", "from-a", {});
    await sdk(c).trigger("news", "from-c", {});

    await page.waitForSelector('#log li[data-kind="api_publish"][data-event="from-a"]');
    await page.waitForSelector('#log li[data-kind="api_publish"][data-event="from-c"]');
    await page.waitForFunction(() => document.querySelectorAll('#log li[data-kind="member_added"]').length === 2);
    const opened = await rowsOf("connection_opened");
    const published = await rowsOf("api_publish");
    const nodesSeen = new Set([...opened, ...published].map((r) => r.node));
    expect(nodesSeen.size).toBe(3);
    expect(opened.map((r) => r.node)).not.toContain(published.find((r) => r.event === "from-a")!.node);

    await page.waitForFunction(() => document.getElementById("connections")!.textContent === "2", { timeout: 10_000 });
    await page.waitForSelector('#channels tr[data-channel="presence-lobby"]');
    await page.click('#channels tr[data-channel="presence-lobby"] button');
    await page.waitForFunction(() => document.querySelectorAll("#members-list li").length === 2);
    expect(await page.$eval("#members-list", (el) => el.textContent)).toMatch(/bob[\s\S]*carol|carol[\s\S]*bob/);
  }, 30_000);
});
