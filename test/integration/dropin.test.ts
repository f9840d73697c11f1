// Drop-in configuration (issue 14): the server started with Socket Rush's, Sockudo's and Soketi's
// own examples (test/fixtures/, verbatim), checked through pusher-js and the pusher SDK. Only PORT
// and BIND_ADDRESS (and, where the example names a host "redis", REDIS_URL) come from the test's
// environment, which wins over a file as it does in those servers. ADAPTER_DRIVER is passed as the
// example sets it, so a SWITCHBOARD_TOPOLOGY run still starts one process.
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { reachable, requireService, uniquePrefix } from "../adapters/cluster.ts";
import { byEvent, connected, dataOf, once, pusherClient, rawClient, sdk, authToken } from "../helpers/clients.ts";
import { ROOT, runtimeFeatures, startServer, type TestServer } from "../helpers/server.ts";
import type Pusher from "pusher-js";

const fixture = (name: string) => path.join(ROOT, "test/fixtures", name);
const redisUp = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");

/** Waits for the start-up lines printed right after "listening". */
async function printed(server: TestServer, pattern: RegExp | string): Promise<void> {
  for (let i = 0; i < 40 && !server.output().match(pattern); i++) await new Promise((r) => setTimeout(r, 50));
  expect(server.output()).toMatch(pattern);
}

let servers: TestServer[] = [];
const clients: Pusher[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
});

async function start(options: Parameters<typeof startServer>[0], app: { id: string; key: string; secret: string }): Promise<TestServer> {
  const server = await startServer({ defaultApp: false, ...options });
  servers.push(server);
  return { ...server, appId: app.id, key: app.key, secret: app.secret };
}

function client(server: TestServer, opts: Parameters<typeof pusherClient>[1] = {}): Pusher {
  const c = pusherClient(server, opts);
  clients.push(c);
  return c;
}

/** Two pusher-js clients on a private channel: a client event from one reaches the other. */
async function expectClientEvents(server: TestServer, opts: Parameters<typeof pusherClient>[1] = {}): Promise<void> {
  const [a, b] = [client(server, opts), client(server, opts)];
  await Promise.all([connected(a), connected(b)]);
  if (opts.user) {
    a.signin();
    b.signin();
    await Promise.all([a.user.signinDonePromise, b.user.signinDonePromise]);
  }
  const [ca, cb] = [a.subscribe("private-dropin"), b.subscribe("private-dropin")];
  await Promise.all([once(ca, "pusher:subscription_succeeded"), once(cb, "pusher:subscription_succeeded")]);
  const received = once<{ hello: string }>(cb, "client-hello");
  ca.trigger("client-hello", { hello: "world" });
  expect(await received).toEqual({ hello: "world" });
}

/** An HTTP API event (the pusher SDK) reaches a pusher-js client. */
async function expectApiEvent(server: TestServer, data: unknown = { n: 1 }, opts: Parameters<typeof pusherClient>[1] = {}): Promise<void> {
  const c = client(server, opts);
  await connected(c);
  if (opts.user) {
    c.signin();
    await c.user.signinDonePromise;
  }
  const channel = c.subscribe("news");
  await once(channel, "pusher:subscription_succeeded");
  const received = once(channel, "update");
  await sdk(server).trigger("news", "update", data);
  expect(await received).toEqual(data);
}

describe.skipIf(!redisUp || !runtimeFeatures.backendDrivers)("Socket Rush's example config file", () => {
  it("serves both applications, with client events only where app_enable_client_messages is true", async () => {
    const env = { ADAPTER_DRIVER: "redis", REDIS_PREFIX: uniquePrefix("dropin-rush") };
    const app1 = await start({ args: ["--config", fixture("socket-rush/config.json")], env }, { id: "123", key: "app1key", secret: "app1secret" });
    const app2 = { ...app1, appId: "456", key: "app2key", secret: "app2secret" };
    await printed(app1, "Apps: 123, 456");
    await printed(app1, /warning: server\.app_env in .*config\.json \(Socket Rush\) accepted but not acted on/);
    await expectClientEvents(app1);
    await expectApiEvent(app2);
    const raw = await rawClient(app2);
    raw.send({ event: "pusher:subscribe", data: { channel: "private-x", auth: authToken(app2, `${raw.socketId}:private-x`) } });
    await raw.next(byEvent("pusher_internal:subscription_succeeded"));
    raw.send({ event: "client-hello", channel: "private-x", data: {} });
    expect(dataOf(await raw.next(byEvent("pusher:error"))).message).toBe("Client events are disabled for this app");
    raw.close();
  });
});

describe("Socket Rush's flags", () => {
  it("--app-id/--app-key/--app-secret, and --app-require-channel-authorization closes a socket that does not sign in", async () => {
    const args = ["--app-id", "123", "--app-key", "my-key", "--app-secret", "my-secret", "--app-require-channel-authorization", "--app-authorization-timeout-seconds", "1"];
    const server = await start({ args }, { id: "123", key: "my-key", secret: "my-secret" });
    const idle = await rawClient(server);
    expect(dataOf(await idle.next(byEvent("pusher:error"), 3000)).code).toBe(4009);
    expect((await idle.closed).code).toBe(4009);
    // A socket that signs in stays, and gets the HTTP API's events.
    await expectApiEvent(server, { n: 2 }, { user: { id: "u1" } });
  });
});

describe("Sockudo's config/config.json", () => {
  it("serves its app with client events, its global event limits, and names what it does not act on", async () => {
    const server = await start({ args: ["--config-file", fixture("sockudo/config.json")], env: { ADAPTER_DRIVER: "local" } }, {
      id: "app-id", key: "app-key", secret: "app-secret",
    });
    await printed(server, /warning: .*config\.json \(Sockudo format\): accepted but not acted on: mode, .*instance\.process_id/);
    await expectClientEvents(server);
    // event_limits.max_payload_in_kb is 1000 there (ours defaults to 10).
    await expectApiEvent(server, { blob: "x".repeat(50 * 1024) });
  });
});

describe.skipIf(!redisUp)("Sockudo's README .env", () => {
  it.runIf(runtimeFeatures.backendDrivers)("the default app from SOCKUDO_DEFAULT_APP_*, its client messages, on the redis adapter", async () => {
    const env = { ADAPTER_DRIVER: "redis", REDIS_URL: "redis://127.0.0.1:6379/0", REDIS_PREFIX: uniquePrefix("dropin-sockudo") };
    const server = await start({ args: ["--env-file", fixture("sockudo/.env")], env }, { id: "demo-app", key: "demo-key", secret: "demo-secret" });
    await printed(server, "Apps: demo-app");
    await expectClientEvents(server);
    await expectApiEvent(server);
  });
});

describe("a Soketi environment", () => {
  it("the default app from SOKETI_DEFAULT_APP_*, its connection limit and user authentication", async () => {
    const env = Object.fromEntries((await import("node:fs")).readFileSync(fixture("soketi/soketi.env"), "utf8").trim().split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
    const server = await start({ env: { ...env, ADAPTER_DRIVER: "local" } }, { id: "app-id", key: "app-key", secret: "app-secret" });
    // SOKETI_DEFAULT_APP_ENABLE_USER_AUTHENTICATION with SOKETI_USER_AUTHENTICATION_TIMEOUT=2000 (ms).
    const idle = await rawClient(server);
    await expectClientEvents(server, { user: { id: "u1" } });
    expect(dataOf(await idle.next(byEvent("pusher:error"), 4000)).code).toBe(4009);
    // SOKETI_DEFAULT_APP_MAX_CONNS=3: the two signed-in clients and one more; the next is refused.
    await idle.closed;
    const third = await rawClient(server);
    const fourth = await rawClient(server, undefined, { established: false });
    expect(dataOf(await fourth.next(byEvent("pusher:error"))).code).toBe(4004);
    third.close();
  });
});
