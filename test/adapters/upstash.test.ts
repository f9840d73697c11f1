// The Upstash backend against a REST server that stops answering (it accepts requests and never
// replies, as a hung proxy or a stopped Redis behind one does): every request fails at the
// deadline, the health loop takes the bus down instead of latching on a ping that never returns,
// and brings it up again once the server answers.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { UpstashBackend } from "../../src/adapters/upstash.ts";
import { globalTimers } from "../helpers/harness.ts";
import { eventually } from "./cluster.ts";

const BUS = "sbtest-upstash-bus";

/** Just enough of the Upstash REST protocol: PING, PUBLISH (echoed on the bus stream), EVAL*, /subscribe as SSE. */
async function restServer() {
  let hung = false;
  const streams = new Set<ServerResponse>();
  const held = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.url?.startsWith("/subscribe/")) {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`data: subscribe,${BUS},1\n\n`);
        streams.add(res);
        res.on("close", () => streams.delete(res));
        return;
      }
      if (hung) return void held.add(res); // never answered
      const [name, ...args] = JSON.parse(body) as string[];
      let result: unknown = "OK";
      if (name === "PUBLISH") {
        for (const stream of streams) stream.write(`data: message,${args[0]},${args[1]}\n\n`);
        result = streams.size;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ result }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hang: (on: boolean) => void (hung = on),
    async close() {
      for (const res of [...held, ...streams]) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("upstash backend with a REST server that stopped answering", async () => {
  const rest = await restServer();
  const backend = new UpstashBackend(rest.url, "token", globalTimers, 200);
  afterAll(async () => {
    await backend.close();
    await rest.close();
  });

  it("fails requests at the deadline, goes down, and comes back up when the server answers again", async () => {
    const states: string[] = [];
    backend.open(BUS, {
      message: () => {},
      up: () => void states.push("up"),
      down: (reason) => void states.push(`down: ${reason}`),
      failed: () => {},
    });
    await eventually(() => states.includes("up"), 10_000, "the backend to come up");

    rest.hang(true);
    const error = await backend.publish(BUS, "x").then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe("TimeoutError");
    await eventually(() => states.length >= 2, 10_000, "the backend to go down");
    expect(states[1]).toMatch(/^down: /);

    // The health loop keeps pinging (it never latched on the hung ping) and notices the answer.
    rest.hang(false);
    await eventually(() => states.length >= 3, 10_000, "the backend to come back up");
    expect(states.at(-1)).toBe("up");
  }, 30_000);
});
