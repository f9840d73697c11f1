// The debug console's feed as a browser uses it, without the browser, so it runs on every runtime
// (node, node24, deno, bun, the binary) and, under SWITCHBOARD_TOPOLOGY, through a balancer over 3
// nodes where sign-in, stream and trigger may each land on a different node. The page itself is
// tested in Chromium in test/console/.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, dataOf, rawClient, sdk, type RawClient } from "../helpers/clients.ts";
import { call, openStream, signIn, type Stream } from "../helpers/console.ts";
import { subscribe } from "../helpers/rest.ts";
import { CLUSTER_SIZE, TOPOLOGY, startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
let stream: Stream | undefined;
let cookie = "";
const clients: RawClient[] = [];

beforeAll(async () => {
  server = await startServer({ env: { CONSOLE_ENABLED: "true" } });
  cookie = await signIn(server, { appId: server.appId, secret: server.secret });
  stream = await openStream(server, cookie);
  // Under a topology, wait until every node counts in: they forward events from their first "watch".
  await stream.waitForState((s) => s.nodes === (TOPOLOGY ? CLUSTER_SIZE : 1), 10_000);
});
afterAll(async () => {
  stream?.close();
  for (const c of clients) c.close();
  await server?.stop();
});

describe("debug console feed", () => {
  it("serves the page and its script from the server itself", async () => {
    const page = await call(server, "GET", "");
    expect(page.status).toBe(200);
    expect(page.text).toContain('<script src="console/console.js"');
    expect((await call(server, "GET", "/console.js")).headers.get("content-type")).toContain("javascript");
  });

  it("shows connections, subscriptions, REST publishes and the cluster-wide counts", async () => {
    const client = await rawClient(server);
    clients.push(client);
    await subscribe(server, client, "presence-room", { user_id: "ann" });
    await sdk(server).trigger("news", "headline", {});
    const s = stream!;
    await s.waitFor((r) => r.kind === "connection_opened" && r.details === "" && r.node !== "");
    await s.waitFor((r) => r.kind === "subscribed" && r.channel === "presence-room");
    await s.waitFor((r) => r.kind === "member_added" && r.userId === "ann");
    await s.waitFor((r) => r.kind === "api_publish" && r.event === "headline");
    // Other nodes' counts arrive with the next "watch" (every 2 s).
    const state = await s.waitForState((st) => st.connections === 1 && st.channels.some((c: any) => c.name === "presence-room"), 10_000);
    expect(state.channels.find((c: any) => c.name === "presence-room")).toEqual({ name: "presence-room", subscriptionCount: 1, userCount: 1 });
    const members = await call(server, "GET", "/api/members?channel=presence-room", { cookie });
    expect(members.json.members.map((m: { id: string }) => m.id)).toEqual(["ann"]);
  });

  it("triggers an event a client receives", async () => {
    const client = await rawClient(server);
    clients.push(client);
    await subscribe(server, client, "form-channel");
    const sent = await call(server, "POST", "/api/events", { cookie, body: { name: "from-console", channels: ["form-channel"], data: '{"n":1}' } });
    expect(sent.status).toBe(200);
    expect(dataOf(await client.next(byEvent("from-console", "form-channel")))).toEqual({ n: 1 });
  });
});
