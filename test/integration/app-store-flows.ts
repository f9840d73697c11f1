// The pusher-js / pusher SDK flows every stored app must pass, whatever store it lives in: connect,
// private and presence subscriptions signed by the app's secret, triggers through the server SDK,
// client events, and an unknown key refused.
import { expect, it } from "vitest";
import { byEvent, connected, once, pusherClient, rawClient, sdk } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";

export function sdkFlows(server: () => TestServer): void {
  it("connects pusher-js, subscribes private and presence channels with auth, and receives SDK triggers", async () => {
    const s = server();
    const client = pusherClient(s, { presence: { user_id: "u1", user_info: { name: "Ada" } } });
    try {
      await connected(client);
      const priv = client.subscribe("private-orders");
      const pres = client.subscribe("presence-room");
      await Promise.all([once(priv, "pusher:subscription_succeeded"), once(pres, "pusher:subscription_succeeded")]);
      expect((pres as any).members.count).toBe(1);
      const got = once<{ n: number }>(priv, "shipped");
      await sdk(s).trigger("private-orders", "shipped", { n: 1 });
      expect(await got).toEqual({ n: 1 });
      const info = await sdk(s).get({ path: "/channels/presence-room/users" });
      expect(((await info.json()) as { users: { id: string }[] }).users).toEqual([{ id: "u1" }]);
    } finally {
      client.disconnect();
    }
  });

  it("relays client events between two pusher-js clients (enable_client_messages = 1)", async () => {
    const s = server();
    const a = pusherClient(s);
    const b = pusherClient(s);
    try {
      await Promise.all([connected(a), connected(b)]);
      const ca = a.subscribe("private-chat");
      const cb = b.subscribe("private-chat");
      await Promise.all([once(ca, "pusher:subscription_succeeded"), once(cb, "pusher:subscription_succeeded")]);
      const got = once(cb, "client-typing");
      ca.trigger("client-typing", { who: "a" });
      expect(await got).toEqual({ who: "a" });
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it("refuses an unknown key with 4001 and a REST call signed with a wrong secret with 401", async () => {
    const s = server();
    const raw = await rawClient(s, "/app/not-a-stored-key?protocol=7", { established: false });
    expect((await raw.next(byEvent("pusher:error"))).data).toMatchObject({ code: 4001 });
    const wrong = sdk(s, s.appId, s.key, "not-the-secret");
    await expect(wrong.trigger("ch", "ev", {})).rejects.toMatchObject({ status: 401 });
  });
}
