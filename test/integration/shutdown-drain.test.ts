// What a SIGTERM does, seen from outside (docs/operating.md, "Graceful stop"): /ready answers 503 at
// once while the API and the sockets keep serving for SHUTDOWN_GRACE_PERIOD_MS; then the sockets
// are closed with 4200; and from the adapter's stop until the listener closes the API answers 503
// with Retry-After, never a 2xx.
import { describe, expect, it } from "vitest";
import { byEvent, dataOf, rawClient, sdk } from "../helpers/clients.ts";
import { outcome, signedRequest, subscribe, type RawResponse } from "../helpers/rest.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

const GRACE_MS = 2000;

async function ready(port: number): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/ready`)).status;
}

interface Answer {
  status: number;
  at: number;
  retryAfter?: string | null;
  error?: unknown;
}

/** Publishes one after another on new connections until the listener is gone. */
async function publishUntilClosed(server: TestServer): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (;;) {
    let res: RawResponse;
    try {
      res = await signedRequest(server, "POST", "/events", JSON.stringify({ name: "loop", channel: "loop", data: "{}" }));
    } catch {
      return answers; // refused or cut off: the listener closed
    }
    answers.push({ status: res.status, at: Date.now(), retryAfter: res.headers.get("retry-after"), error: res.json?.error });
  }
}

describe("SIGTERM drains before it refuses", () => {
  it("keeps the API and the sockets serving through the grace period while /ready answers 503, then closes with 4200", async () => {
    // A single process whatever SWITCHBOARD_TOPOLOGY says: the signal goes to this one node.
    const server = await startServer({ env: { ADAPTER_DRIVER: "local", SHUTDOWN_GRACE_PERIOD_MS: String(GRACE_MS), SHUTDOWN_CLOSE_SPREAD_MS: "200" } });
    const exited = new Promise<number | null>((resolve) => server.process.once("exit", (code) => resolve(code)));
    try {
      const early = await rawClient(server);
      await subscribe(server, early, "drain");
      const signalled = Date.now();
      server.process.kill("SIGTERM");
      const publishing = publishUntilClosed(server);
      const deadline = signalled + 500;
      while ((await ready(server.port)) !== 503) {
        expect(Date.now(), "/ready answers 503 at once").toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 20));
      }

      // Draining: a new socket is accepted, a publish answered 200 reaches both subscribers.
      const late = await rawClient(server);
      await subscribe(server, late, "drain");
      const published = await outcome(sdk(server).trigger("drain", "during-drain", { n: 1 }));
      expect(published.status).toBe(200);
      for (const client of [early, late]) expect(dataOf(await client.next(byEvent("during-drain", "drain")))).toEqual({ n: 1 });
      expect(Date.now() - signalled, "the checks above ran inside the grace period").toBeLessThan(GRACE_MS - 500);

      // After the grace period: 4200 (pusher:error, then the close).
      const closed = await early.closed;
      expect(closed.code).toBe(4200);
      expect(Date.now() - signalled).toBeGreaterThanOrEqual(GRACE_MS - 100);
      expect(early.frames.filter((f) => f.event === "pusher:error").map(dataOf)).toEqual([{ code: 4200, message: "Server is shutting down, reconnect" }]);
      expect((await late.closed).code).toBe(4200);

      // From the signal until the listener closed: 200 (still delivering), then at most 503s with
      // Retry-After once the adapter stopped, never a 2xx after a 503.
      const answers = await publishing;
      const refusedFrom = answers.findIndex((a) => a.status !== 200);
      for (const a of refusedFrom < 0 ? [] : answers.slice(refusedFrom)) {
        expect(a).toMatchObject({ status: 503, retryAfter: "1", error: "Server is shutting down, retry" });
      }
      // Publishing went on through the grace period and the closing.
      const lastOk = answers.slice(0, refusedFrom < 0 ? undefined : refusedFrom).at(-1);
      expect(lastOk?.at ?? 0).toBeGreaterThanOrEqual(signalled + GRACE_MS);
      expect(await exited).toBe(0);
    } finally {
      await server.kill();
    }
  });

  it("a second SIGTERM during the drain exits at once", async () => {
    const server = await startServer({ env: { ADAPTER_DRIVER: "local", SHUTDOWN_GRACE_PERIOD_MS: "10000" } });
    const exited = new Promise<number | null>((resolve) => server.process.once("exit", (code) => resolve(code)));
    try {
      server.process.kill("SIGTERM");
      while ((await ready(server.port)) !== 503) await new Promise((r) => setTimeout(r, 20));
      const again = Date.now();
      server.process.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(Date.now() - again).toBeLessThan(2000);
    } finally {
      await server.kill();
    }
  });
});
