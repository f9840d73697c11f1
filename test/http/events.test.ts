// The REST event validator (src/http/events.ts): the zod shape, then the app's own limits, each
// refusal with the message a user reads in the 4xx body.
import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/http/errors.ts";
import { validateEvent } from "../../src/http/events.ts";
import { Harness } from "../helpers/harness.ts";

const app = new Harness({ env: { APP_MAX_EVENT_NAME_LENGTH: "20", APP_MAX_EVENT_PAYLOAD_IN_KB: "1" } }).app;

function refusal(body: Record<string, unknown>, batch = false): [number, string] {
  try {
    validateEvent(app, body, batch);
  } catch (error) {
    if (error instanceof HttpError) return [error.status, error.message];
    throw error;
  }
  throw new Error("accepted");
}

describe("validateEvent", () => {
  it("accepts the SDK's body and normalises it", () => {
    expect(validateEvent(app, { name: "e", data: { a: 1 }, channels: ["a", "a", "b"], socket_id: "1.2", info: "user_count, subscription_count" }, false))
      .toEqual({ name: "e", data: '{"a":1}', channels: ["a", "b"], socketId: "1.2", info: ["user_count", "subscription_count"], idempotencyKey: undefined });
    expect(validateEvent(app, { name: "e", data: "x", channel: "c", idempotency_key: "k" }, false))
      .toMatchObject({ channels: ["c"], idempotencyKey: "k" });
  });

  it("names what is wrong, with the batch item prefix in a batch", () => {
    expect(refusal({ data: "x", channel: "c" })).toEqual([400, "name is required"]);
    expect(refusal({ name: 5, data: "x", channel: "c" }, true)).toEqual([400, "batch item: name is required"]);
    expect(refusal({ name: "pusher:x", data: "x", channel: "c" })).toEqual([400, "event names starting with pusher: are reserved"]);
    expect(refusal({ name: "e", channel: "c" })).toEqual([400, "data is required"]);
    expect(refusal({ name: "e", data: "x" })).toEqual([400, "channels (array) or channel (string) is required"]);
    expect(refusal({ name: "e", data: "x", channels: "c" })).toEqual([400, "channels (array) or channel (string) is required"]);
    expect(refusal({ name: "e", data: "x", channels: [] })).toEqual([400, "channels must not be empty"]);
    expect(refusal({ name: "e", data: "x", channel: "c", socket_id: "abc" })).toEqual([400, "socket_id must look like 123.456"]);
    expect(refusal({ name: "e", data: "x", channel: "c", info: 1 })).toEqual([400, "info must be a comma-separated string"]);
    expect(refusal({ name: "e", data: "x", channels: ["ok", "bad channel"] })).toEqual([400, "invalid channel name: bad channel"]);
    expect(refusal({ name: "e", data: "x", channel: "c", idempotency_key: "" })).toEqual([400, "idempotency_key must be a string of 1 to 256 printable characters"]);
  });

  it("applies the app's limits after the shape", () => {
    expect(refusal({ name: "e".repeat(21), data: "x", channel: "c" })).toEqual([400, "name is longer than 20 characters"]);
    expect(refusal({ name: "e", data: "x".repeat(1025), channel: "c" })[0]).toBe(413);
    expect(refusal({ name: "e", data: "x", channels: ["private-encrypted-a", "b"] })[1]).toMatch(/encrypted channel cannot be triggered together/);
  });
});
