// The HTTP API's publish through the in-process harness (test/helpers/harness.ts).
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { ClusterUnavailableError } from "../../src/core/adapter.ts";
import { Harness, settle } from "../helpers/harness.ts";

describe("publish", () => {
  it("refuses a publish to a cache channel whose cache write the cluster refused, before any socket got it", async () => {
    const adapter = new LocalAdapter();
    const cacheSet = adapter.cacheSet.bind(adapter);
    let failures = 1;
    adapter.cacheSet = (...args) => (failures-- > 0 ? Promise.reject(new ClusterUnavailableError("cache refused")) : cacheSet(...args));
    const h = await new Harness({ adapter }).start();
    const c = await h.connect();
    await c.subscribe("cache-room");
    await expect(h.server.publish(h.app, "cache-room", "hello", "{}")).rejects.toBeInstanceOf(ClusterUnavailableError);
    await settle();
    expect(c.events("hello", "cache-room")).toHaveLength(0);
    // The retry delivers it once, and it is cached for the next subscriber.
    await h.server.publish(h.app, "cache-room", "hello", "{}");
    await settle();
    expect(c.events("hello", "cache-room")).toHaveLength(1);
    expect(await adapter.cacheGet(h.app.id, "cache-room")).toMatchObject({ event: "hello" });
    await h.stop();
  });
});
