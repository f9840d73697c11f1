import { describe, expect, it } from "vitest";
import { connectionEstablished } from "../../src/core/messages.ts";

describe("connectionEstablished", () => {
  it("is the JSON a double JSON.stringify would give (it is built from a template)", () => {
    const expected = JSON.stringify({
      event: "pusher:connection_established",
      data: JSON.stringify({ socket_id: "1234567890.42", activity_timeout: 120 }),
    });
    expect(connectionEstablished("1234567890.42", 120)).toBe(expected);
    expect(JSON.parse(JSON.parse(connectionEstablished("0.7", 30)).data)).toEqual({ socket_id: "0.7", activity_timeout: 30 });
  });
});
