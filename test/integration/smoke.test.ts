import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, connected, dataOf, once, pusherClient, rawClient, sdk } from "../helpers/clients.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

describe("smoke", () => {
  it("delivers an SDK trigger to a pusher-js subscriber", async () => {
    const client = pusherClient(server);
    await connected(client);
    const channel = client.subscribe("my-channel");
    await once(channel, "pusher:subscription_succeeded");
    const got = once(channel, "my-event");
    const res = await sdk(server).trigger("my-channel", "my-event", { hello: "world" });
    expect(res.status).toBe(200);
    expect(await got).toEqual({ hello: "world" });
    client.disconnect();
  });

  it("answers pusher:ping with pusher:pong", async () => {
    const raw = await rawClient(server);
    expect(raw.socketId).toMatch(/^\d+\.\d+$/);
    raw.send({ event: "pusher:ping", data: {} });
    const pong = await raw.next(byEvent("pusher:pong"));
    expect(pong.data).toBe("{}");
    expect(dataOf(pong)).toEqual({});
    raw.close();
  });
});
