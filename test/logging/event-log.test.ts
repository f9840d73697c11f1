import { describe, expect, it } from "vitest";
import { EventStream } from "../../src/core/events.ts";
import type { Logger } from "../../src/core/runtime.ts";
import { logEvents } from "../../src/logging/event-log.ts";
import { Harness } from "../helpers/harness.ts";

function setUp(requests: boolean) {
  const h = new Harness();
  const lines: { message: string; fields: any }[] = [];
  const log = (message: string, fields?: unknown) => void lines.push({ message, fields });
  logEvents(h.server.events, { debug: log, info: log, warn: log, error: log }, { requests });
  return { h, lines };
}

describe("logEvents", () => {
  it("logs a client's life one line per event, with its ids", async () => {
    const { h, lines } = setUp(true);
    await h.start();
    const c = await h.connect();
    await c.subscribe("news");
    await c.subscribe("private-y");
    c.send({ event: "pusher:subscribe", data: { channel: "private-z", auth: "app-key:nope" } });
    await h.timers.advance(0);
    c.close();
    await h.timers.advance(0);
    expect(lines.map((l) => l.message)).toEqual([
      "connection opened",
      "subscribed to news",
      "subscribed to private-y",
      expect.stringMatching(/^subscription to private-z refused \(401 AuthError\)/),
      "unsubscribed from news",
      "unsubscribed from private-y",
      "connection closed by the client",
    ]);
    expect(lines[1]!.fields).toEqual({ appId: "app-id", socketId: c.socketId, channel: "news", userId: undefined });
    await h.stop();
  });

  it("subscribes to the client kinds only, and to http_request unless request lines are off", () => {
    const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    const stream = new EventStream(() => 0, quiet);
    logEvents(stream, quiet, { requests: false });
    expect(stream.wants("connection_opened")).toBe(true);
    expect(stream.wants("http_request")).toBe(false);
    // Nothing on the broadcast path: a debug log never costs the fan-out anything.
    expect(stream.wants("broadcast")).toBe(false);
    logEvents(stream, quiet, { requests: true });
    expect(stream.wants("http_request")).toBe(true);
  });
});
