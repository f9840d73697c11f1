// Node's start-up warm-up (runtimes/node-warmup.ts, issue 26): real handshakes run against a
// throwaway instance before the port opens, and the real instance sees none of them: no
// connection in its metrics, no webhook, no channel. Node only: other runtimes have no warm-up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connected, pusherClient } from "../helpers/clients.ts";
import { scrape, total } from "../helpers/observe.ts";
import { RUNTIME, startServer, type TestServer } from "../helpers/server.ts";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver.ts";

const APP = { appId: "app-id", key: "app-key", secret: "app-secret" };
const node = RUNTIME === "node" || RUNTIME === "node24";

describe.skipIf(!node)("node start-up warm-up", () => {
  let server: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver(APP);
    server = await startServer({
      env: {
        WARMUP_HANDSHAKES: "200",
        ADAPTER_DRIVER: "local",
        APP_WEBHOOKS: JSON.stringify([{ url: receiver.url, event_types: ["channel_occupied", "channel_vacated"] }]),
      },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it("runs real handshakes before the port opens and logs how many", () => {
    const m = /warm-up: (\d+) handshakes in (\d+) ms \(\d+ ms of CPU\)(, (\d+) failed)?/.exec(server.output());
    // (", N cut at the time limit" may follow on a loaded machine: stragglers, not faults.)
    expect(m, server.output()).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(m![3], "no warm-up handshake may fail").toBeUndefined();
    // Logged before the port opened: nothing could reach the process while it ran.
    expect(server.output().indexOf("warm-up:")).toBeLessThan(server.output().indexOf("listening on"));
  });

  it("counts none of them, and sends no webhook for its channel", async () => {
    const client = pusherClient(server);
    try {
      await connected(client);
      const channel = client.subscribe("after-warm-up");
      await new Promise<void>((resolve) => channel.bind("pusher:subscription_succeeded", () => resolve()));
      // The real client's webhook is the marker that the warm-up's would have arrived by now.
      await receiver.waitFor((events) => events.some(byChannel("after-warm-up")));
      expect(receiver.events().map((e) => e.channel)).toEqual(["after-warm-up"]);
      const samples = await scrape(server);
      expect(total(samples, "switchboard_new_connections_total")).toBe(1);
      expect(total(samples, "switchboard_connected")).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});

const byChannel = (channel: string) => (e: { channel: string }) => e.channel === channel;
