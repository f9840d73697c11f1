import { describe, expect, it } from "vitest";
import PusherServer from "pusher";
import { webCryptoProvider } from "../../src/core/crypto.ts";
import { buildJob, webhookHeaders } from "../../src/webhooks/job.ts";
import { app } from "./harness.ts";

describe("buildJob: signed body and headers (spec §7.1)", () => {
  it("matches vector B10 and validates with the pusher SDK", async () => {
    const a = app();
    const job = await buildJob(webCryptoProvider(), a, a.webhooks[0]!, [{ name: "channel_occupied", channel: "my-channel" }], 1700000000000);
    expect(job.body).toBe('{"time_ms":1700000000000,"events":[{"name":"channel_occupied","channel":"my-channel"}]}');
    expect(job.headers["X-Pusher-Signature"]).toBe("fec9fff324b82111ea03affc886e951bec5ee7a9e365bfd05cf254414c990a1a");
    const lower = Object.fromEntries(Object.entries(job.headers).map(([k, v]) => [k.toLowerCase(), v]));
    const pusher = new PusherServer({ appId: "1", key: "app-key", secret: "app-secret", host: "127.0.0.1" });
    expect(pusher.webhook({ headers: lower, rawBody: job.body }).isValid()).toBe(true);
  });

  it("keeps custom headers but never lets them replace the signed three, in any case", () => {
    const h = webhookHeaders(app(), "sig", { "X-Custom": "1", "x-pusher-key": "evil", "X-PUSHER-SIGNATURE": "evil", "content-type": "text/plain" });
    expect(h).toEqual({ "User-Agent": "Switchboard-webhooks/1.0", "X-Custom": "1", "Content-Type": "application/json", "X-Pusher-Key": "app-key", "X-Pusher-Signature": "sig" });
  });
});
