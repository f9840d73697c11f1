// The nats link's key listing: an ordered consumer that can wait forever when NATS goes away
// mid-way. The link gives up when no key comes for a request timeout, so a sweep (or a REST read)
// never hangs on it.
import { describe, expect, it } from "vitest";
import { NatsLink } from "../../../src/adapters/nats/connection.ts";
import { MEMBER } from "../../../src/adapters/nats/values.ts";
import { ManualTimers } from "../../helpers/harness.ts";

/** A listing that hands out `keys` and then never ends, unless stopped (as nats.ws's QueuedIterator). */
function stuckListing(keys: string[]) {
  let stop!: (error?: Error) => void;
  const stopped = new Promise<Error | undefined>((resolve) => (stop = resolve));
  return {
    stop: (error?: Error) => stop(error),
    async *[Symbol.asyncIterator]() {
      yield* keys;
      const error = await stopped;
      if (error) throw error;
    },
  };
}

describe("nats link", () => {
  it("gives up listing keys when nothing comes for a request timeout, and counts that as an outage", async () => {
    const timers = new ManualTimers();
    const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const link = new NatsLink(["ws://127.0.0.1:1"], "bucket", quiet, timers, "test", 3000);
    const downs: string[] = [];
    (link as unknown as { events: unknown }).events = { up: () => {}, down: (reason: string) => downs.push(reason), failed: () => {} };
    (link as unknown as { kvView: unknown }).kvView = { keys: async () => stuckListing(["a", "b"]) };
    let outcome: unknown;
    const listing = link.keys(">").then((keys) => (outcome = keys), (error: Error) => (outcome = error.message));
    await timers.advance(0); // the listing starts and hands out its keys
    await timers.advance(2900);
    expect(outcome).toBeUndefined();
    await timers.advance(200);
    await listing;
    expect(outcome).toBe("listing the keys of bucket bucket stalled (nothing for 3000 ms)");
    // A hung server, like a lost connection: the node goes down and the bucket must be bound again.
    expect(downs).toEqual(["no answer from NATS within the request deadline (listing the keys of bucket bucket stalled (nothing for 3000 ms))"]);
    expect(link.connected).toBe(false);
  });

  it("takes the link down when a KV request times out, not on other failures", async () => {
    const timers = new ManualTimers();
    const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const link = new NatsLink(["ws://127.0.0.1:1"], "bucket", quiet, timers, "test", 500);
    const downs: string[] = [];
    (link as unknown as { events: unknown }).events = { up: () => {}, down: (reason: string) => downs.push(reason), failed: () => {} };
    let fail: Error = new Error("permissions violation");
    (link as unknown as { kvView: unknown }).kvView = { get: async () => { throw fail; } };
    await expect(link.getJson("k", { name: "any", is: (_v: unknown): _v is unknown => true })).rejects.toThrow("permissions");
    expect(downs).toEqual([]);
    fail = Object.assign(new Error("TIMEOUT"), { code: "TIMEOUT" });
    await expect(link.getJson("k", { name: "any", is: (_v: unknown): _v is unknown => true })).rejects.toThrow("TIMEOUT");
    expect(downs).toEqual(["no answer from NATS within the request deadline (TIMEOUT)"]);
  });

  it("lists the values of matching keys without delete markers, whether the initial values came before the watcher or after", async () => {
    const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const link = new NatsLink(["ws://127.0.0.1:1"], "bucket", quiet, new ManualTimers(), "test");
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const initial = [
      { key: "a.m.c.u1", operation: "PUT", value: bytes({ n: { A: 1 }, o: 1 }), revision: 3 },
      { key: "a.m.c.u2", operation: "DEL", value: new Uint8Array(), revision: 4 },
    ];
    for (const early of [true, false]) {
      (link as unknown as { kvView: unknown }).kvView = {
        watch: async ({ initializedFn }: { initializedFn: () => void }) => {
          // As nats.ws: the callback runs at once when everything was queued before the watcher is returned.
          if (early) initializedFn();
          let stopped = false;
          return {
            stop: () => void (stopped = true),
            async *[Symbol.asyncIterator]() {
              yield* initial;
              if (!early) initializedFn();
              // A watcher goes on with updates until stopped.
              while (!stopped) await new Promise((r) => setTimeout(r, 1));
            },
          };
        },
      };
      const listed = await link.entries("a.m.c.*", MEMBER);
      expect([...listed]).toEqual([["a.m.c.u1", { value: { n: { A: 1 }, o: 1 }, revision: 3 }]]);
    }
  });

  it("lists every key of a listing that ends", async () => {
    const timers = new ManualTimers();
    const quiet = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const link = new NatsLink(["ws://127.0.0.1:1"], "bucket", quiet, timers, "test");
    (link as unknown as { kvView: unknown }).kvView = { keys: async () => (async function* () { yield* ["a", "b", "c"]; })() };
    expect(await link.keys(">")).toEqual(["a", "b", "c"]);
  });
});
