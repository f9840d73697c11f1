// The upgrade Request on Node: url, method and headers straight from the IncomingMessage, the
// rest of the Request API built on first use.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { requestOf } from "../../runtimes/node-request.ts";

const incoming = {
  url: "/app/key?protocol=7",
  method: "GET",
  headers: { host: "example.test:6001", "sec-websocket-key": "abc", "x-forwarded-for": ["1.1.1.1", "2.2.2.2"] },
  rawHeaders: ["Host", "example.test:6001", "Sec-WebSocket-Key", "abc", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "2.2.2.2"],
} as unknown as IncomingMessage;

describe("the upgrade Request on Node", () => {
  it("answers url, method and headers from the IncomingMessage", () => {
    const req = requestOf(incoming);
    expect(req.url).toBe("http://example.test:6001/app/key?protocol=7");
    expect(req.method).toBe("GET");
    expect(req.headers.get("Sec-WebSocket-Key")).toBe("abc");
    expect(req.headers.get("x-forwarded-for")).toBe("1.1.1.1, 2.2.2.2");
    expect(req.headers.has("origin")).toBe(false);
    expect(req).toBeInstanceOf(Request);
  });

  it("builds the real Request for anything else", async () => {
    const req = requestOf(incoming);
    expect(req.signal).toBeInstanceOf(AbortSignal);
    expect(req.clone().headers.get("x-forwarded-for")).toBe("1.1.1.1, 2.2.2.2");
    expect(await req.text()).toBe("");
  });
});
