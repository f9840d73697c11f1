// Logs that explain (docs/operating.md, Logs): with LOG_FORMAT=json every line parses as one object, and at
// debug each client event is one line carrying the ids that apply.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { byEvent, rawClient, sdk } from "../helpers/clients.ts";
import { jsonLines, waitFor } from "../helpers/observe.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ env: { LOG_FORMAT: "json", DEBUG: "true", LOG_LEVEL: "warn", ADAPTER_DRIVER: "local" } });
});
afterAll(() => server?.stop());

const lines = (message: RegExp) => jsonLines(server).filter((l) => message.test(l.message));

describe("JSON logs", () => {
  it("start-up lines are JSON with time, level and message; DEBUG=true wins over LOG_LEVEL", async () => {
    await waitFor(() => lines(/^drivers: adapter=local/).length === 1, "the drivers line");
    const all = jsonLines(server);
    expect(all.length).toBeGreaterThan(2);
    for (const line of all) {
      expect(Date.parse(line.time)).not.toBeNaN();
      expect(["debug", "info", "warn", "error"]).toContain(line.level);
      expect(typeof line.message).toBe("string");
    }
    expect(lines(/^drivers: adapter=local/)).toHaveLength(1);
  });

  it("one debug line per connection, subscription, refusal, sign-in and close, with its ids", async () => {
    const raw = await rawClient(server);
    const id = raw.socketId!;
    raw.send({ event: "pusher:subscribe", data: { channel: "news" } });
    await raw.next(byEvent("pusher_internal:subscription_succeeded", "news"));
    raw.send({ event: "pusher:subscribe", data: { channel: "private-x", auth: "app-key:bad" } });
    await raw.next(byEvent("pusher:subscription_error"));
    raw.send({ event: "pusher:signin", data: { user_data: JSON.stringify({ id: "u7" }), auth: "app-key:bad" } });
    await raw.next(byEvent("pusher:error"));
    raw.close();
    await raw.closed;
    await waitFor(() => lines(/^connection closed/).some((l) => l.socketId === id), "the close line");

    const mine = jsonLines(server).filter((l) => l.socketId === id);
    expect(mine.map((l) => l.message)).toEqual([
      "connection opened",
      "subscribed to news",
      expect.stringMatching(/^subscription to private-x refused \(401 AuthError\): /),
      expect.stringMatching(/^sign-in refused: /),
      "unsubscribed from news",
      "connection closed by the client",
    ]);
    for (const line of mine) expect(line).toMatchObject({ level: "debug", appId: "app-id", socketId: id });
    expect(mine[1]).toMatchObject({ channel: "news" });
    expect(mine[2]).toMatchObject({ channel: "private-x", status: 401, reason: expect.any(String) });
  });

  it("a refused connection says why, with the close code", async () => {
    const raw = await rawClient(server, "/app/nope?protocol=7", { established: false });
    await raw.closed;
    await waitFor(() => lines(/^connection refused with 4001/).length === 1, "the refusal line");
    expect(lines(/^connection refused/)[0]).toMatchObject({ code: 4001, appKey: "nope", reason: expect.stringMatching(/app/i) });
  });

  it("a successful sign-in is logged with the user id", async () => {
    const raw = await rawClient(server);
    const userData = JSON.stringify({ id: "u8" });
    const { createHmac } = await import("node:crypto");
    const auth = `app-key:${createHmac("sha256", "app-secret").update(`${raw.socketId}::user::${userData}`).digest("hex")}`;
    raw.send({ event: "pusher:signin", data: { user_data: userData, auth } });
    await raw.next(byEvent("pusher:signin_success"));
    raw.close();
    await waitFor(() => lines(/^signed in as u8/).length === 1, "the sign-in line");
    expect(lines(/^signed in as u8/)[0]).toMatchObject({ socketId: raw.socketId, userId: "u8", appId: "app-id" });
  });

  it("one line per REST call with method, path, status and time", async () => {
    await sdk(server).trigger("news", "e", {});
    await waitFor(() => lines(/^POST \/apps\/app-id\/events 200/).length === 1, "the request line");
    expect(lines(/^POST \/apps\/app-id\/events/)[0]).toMatchObject({ method: "POST", path: "/apps/app-id/events", status: 200, ms: expect.any(Number), appId: "app-id" });
  });

  it("a request body cut off mid-way is a debug line, not an error with a stack", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write("POST /apps/app-id/events?auth_key=x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"na");
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    await waitFor(() => lines(/body broke off/).length === 1, "the aborted-body line");
    expect(lines(/body broke off/)[0]).toMatchObject({ level: "debug", path: "/apps/app-id/events" });
    expect(jsonLines(server).filter((l) => l.level === "error")).toEqual([]);
  });
});

describe("IGNORE_LOGGER_MIDDLEWARE", () => {
  it("turns the request lines off and keeps the client lines", async () => {
    const quiet = await startServer({ env: { LOG_FORMAT: "json", LOG_LEVEL: "debug", IGNORE_LOGGER_MIDDLEWARE: "true", ADAPTER_DRIVER: "local" } });
    try {
      await sdk(quiet).trigger("news", "e", {});
      const raw = await rawClient(quiet);
      raw.close();
      await waitFor(() => jsonLines(quiet).some((l) => l.message === "connection opened"), "the connection line");
      expect(jsonLines(quiet).filter((l) => /^POST /.test(l.message))).toEqual([]);
    } finally {
      await quiet.stop();
    }
  });
});
