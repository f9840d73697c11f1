// A burst of subscribes on one socket (issue: Deno dropped the connection after ~300 of 5000, and a
// networked adapter makes every runtime wait longer per subscribe): all are acknowledged, in order,
// and the socket stays open. pusher-js sends exactly this after a reconnect with many channels.
import { describe, expect, it } from "vitest";
import { rawClient } from "../helpers/clients.ts";
import type { TestServer } from "../helpers/server.ts";
import { uniquePrefix, type ClusterOptions } from "./cluster.ts";

export interface BurstDriver {
  label: string;
  available: boolean;
  start(size: number, options: ClusterOptions): Promise<TestServer[]>;
}

export function describeSubscribeBurst(driver: BurstDriver, channels = 5000): void {
  describe.skipIf(!driver.available)(`${driver.label} adapter: a burst of ${channels} subscribes on one socket`, () => {
    it("acknowledges every subscribe in order and keeps the socket open", async () => {
      const [node, ...rest] = await driver.start(1, { prefix: uniquePrefix("burst") });
      const client = await rawClient(node!);
      try {
        const acks: string[] = [];
        const done = new Promise<void>((resolve, reject) => {
          client.ws.on("message", (raw) => {
            const frame = JSON.parse(raw.toString()) as { event: string; channel?: string };
            if (frame.event === "pusher_internal:subscription_succeeded") acks.push(frame.channel!);
            else if (frame.event === "pusher:pong") resolve();
            else if (frame.event === "pusher:error") reject(new Error(`pusher:error ${raw.toString()}`));
          });
          client.ws.on("close", (code) => reject(new Error(`closed with ${code} after ${acks.length} acks`)));
        });
        // One write per frame, all in one turn: the runtime gets them as fast as TCP delivers.
        for (let i = 0; i < channels; i++) client.ws.send(`{"event":"pusher:subscribe","data":{"channel":"burst-${i}"}}`);
        client.ws.send('{"event":"pusher:ping","data":{}}');
        await done;
        expect(acks).toHaveLength(channels);
        expect(acks.every((c, i) => c === `burst-${i}`)).toBe(true);
      } finally {
        client.close();
        await Promise.all([node, ...rest].map((n) => n!.stop()));
      }
    }, 120_000);
  });
}
