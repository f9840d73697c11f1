// Request bodies before authentication (spec §6.1): a body is refused from its Content-Length
// before the app is looked up, a streamed one is read no further than the limit, and after the
// lookup the app's own limits bound it too.
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_HTTP_MAX_BODY_KB, requestBodyLimitBytes } from "../../src/core/app.ts";
import { Harness } from "../helpers/harness.ts";
import { routerOverHarness as api, signedUrl, SMALL, stopRouters } from "./fixtures/router.ts";

afterEach(stopRouters);

/** A body that counts what was pulled from it: `chunks` of `size` bytes, each pulled on demand. */
function countingBody(chunks: number, size: number) {
  const pulled = { bytes: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled.bytes >= chunks * size) return controller.close();
      pulled.bytes += size;
      controller.enqueue(new Uint8Array(size).fill(0x20));
    },
  }, { highWaterMark: 0 });
  return { stream, pulled };
}

describe("request bodies before authentication", () => {
  it("defaults HTTP_MAX_BODY_KB to what the default app limits admit, far below the old 10 MB", () => {
    expect(DEFAULT_HTTP_MAX_BODY_KB).toBe(334);
    expect(new Harness().config.httpMaxBodyKb).toBe(DEFAULT_HTTP_MAX_BODY_KB);
  });

  it("refuses a 10 MB unsigned body from its Content-Length: 413 JSON, nothing read, no app looked up", async () => {
    const { router, lookups } = await api();
    for (const id of ["app-id", "no-such-app"]) {
      const { stream, pulled } = countingBody(10 * 1024, 1024);
      const res = await router.request(`http://localhost/apps/${id}/events`, {
        method: "POST", body: stream, headers: { "content-length": String(10 * 1024 * 1024) }, duplex: "half",
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({ error: expect.stringContaining("Request body too large") });
      expect(pulled.bytes).toBe(0);
    }
    expect(lookups).toEqual([]);
  });

  it("stops reading a streamed body (no Content-Length) at the limit", async () => {
    const { router } = await api({ HTTP_MAX_BODY_KB: "64" });
    const { stream, pulled } = countingBody(10 * 1024, 1024);
    const res = await router.request("http://localhost/apps/app-id/events", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: expect.any(String) });
    expect(pulled.bytes).toBeLessThanOrEqual(65 * 1024);
  });

  it("after the lookup, bounds the body by the app's own limits too", async () => {
    const { router } = await api({ HTTP_MAX_BODY_KB: "1024" });
    const bound = requestBodyLimitBytes(SMALL)!;
    expect(bound).toBeLessThan(8 * 1024);
    const { stream, pulled } = countingBody(100, 1024);
    const res = await router.request("http://localhost/apps/small/events", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled.bytes).toBeLessThanOrEqual(bound + 1024);
    // The server-wide limit alone would have read all 100 KB of it.
    const other = countingBody(100, 1024);
    const unsigned = await router.request("http://localhost/apps/app-id/events", { method: "POST", body: other.stream, duplex: "half" } as RequestInit);
    expect(unsigned.status).toBe(401);
    expect(other.pulled.bytes).toBe(100 * 1024);
  });

  it("still accepts the largest request the default limits admit, its data escaped three times over", async () => {
    const { router, harness } = await api();
    const now = Math.floor(harness.timers.now() / 1000);
    // PHP's json_encode writes each é (two UTF-8 bytes) as \u00e9: 10 KB of data, 30 KB on the wire.
    const item = (i: number) => ({
      name: `e${i}`.padEnd(200, "n"), channel: `c${i}`.padEnd(200, "c"), data: "é".repeat(5 * 1024), socket_id: "123.456",
      info: "subscription_count", idempotency_key: `k${i}`.padEnd(256, "k"),
    });
    const body = JSON.stringify({ batch: Array.from({ length: 10 }, (_, i) => item(i)) }).replace(/é/g, "\\u00e9");
    expect(body.length).toBeGreaterThan(300 * 1024);
    const res = await router.request(signedUrl("/apps/app-id/batch_events", body, now), {
      method: "POST", body, headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
  });
});

describe("the default limit follows the apps given at start-up", () => {
  it("is raised for a configured app with larger limits; an explicit HTTP_MAX_BODY_KB wins", () => {
    const big = new Harness({ env: { APP_MAX_EVENT_PAYLOAD_IN_KB: "100" } });
    expect(big.config.httpMaxBodyKb).toBeGreaterThan(10 * 300);
    const unlimited = new Harness({ env: { APP_MAX_EVENT_PAYLOAD_IN_KB: "-1" } });
    expect(unlimited.config.httpMaxBodyKb).toBe(DEFAULT_HTTP_MAX_BODY_KB);
    const given = new Harness({ env: { APP_MAX_EVENT_PAYLOAD_IN_KB: "100", HTTP_MAX_BODY_KB: "50" } });
    expect(given.config.httpMaxBodyKb).toBe(50);
  });
});
