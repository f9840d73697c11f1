// A client that sends part of a request body and then stops (half-close) gets a 400 or a closed
// connection, never a 500, and the server logs no error for it: on every runtime.
import { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type TestServer } from "../helpers/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

/** Sends the head and part of the body, half-closes, and returns whatever comes back. */
function truncated(body: string, declared: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let answer = "";
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (chunk) => (answer += chunk.toString()));
    socket.on("close", () => resolve(answer));
    socket.on("error", () => resolve(answer));
    socket.connect(server.port, server.host, () => {
      socket.write(
        `POST /apps/${server.appId}/events?auth_key=${server.key} HTTP/1.1\r\nHost: ${server.host}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${body}`,
      );
      socket.end();
    });
  });
}

describe("truncated request bodies", () => {
  it("answer 400 (or close) without an error in the log, and the server keeps serving", async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await truncated('{"name":"ev","chan', 200);
      if (answer !== "") expect(answer).toMatch(/^HTTP\/1\.1 400/);
    }
    const res = await fetch(`http://${server.host}:${server.port}/up`);
    expect(res.status).toBe(200);
    expect(server.output()).not.toMatch(/\] error:/);
  });
});
