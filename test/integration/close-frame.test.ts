// A socket leaves its channels as soon as its close frame arrives, not once its TCP connection has
// closed (issue #23: on Node, ws reports 'close' only after TCP close, a round trip later). The
// pusher-js client connects through a relay that holds the client's FIN: its close frame reaches
// the server, but the server's side of the TCP connection stays open until the test lets the FIN
// through. So /users emptying while the FIN is held can only come from the close frame (ws's own
// close timer, the other way out, is 30 s).
import { createServer, Socket, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connected, once, pusherClient, sdk } from "../helpers/clients.ts";
import { sdkGet } from "../helpers/rest.ts";
import { startServer, type TestServer } from "../helpers/server.ts";

/** One relayed connection: `clientEnded` once the client sent its FIN, which is held back. */
interface Held {
  clientEnded: boolean;
  upstreamClosed: boolean;
  /** Lets the client's FIN through to the server. */
  release(): void;
  closed: Promise<void>;
}

/** A TCP relay to host:port that forwards bytes both ways and the server's FIN, but not the client's. */
async function halfCloseRelay(host: string, port: number): Promise<{ port: number; held: Held[]; close(): Promise<void> }> {
  const held: Held[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = new Socket({ allowHalfOpen: true });
    const entry: Held = {
      clientEnded: false,
      upstreamClosed: false,
      release: () => upstream.end(),
      closed: new Promise((resolve) => upstream.once("close", () => resolve())),
    };
    held.push(entry);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    upstream.connect(port, host);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    upstream.on("end", () => client.end());
    client.on("end", () => (entry.clientEnded = true));
    upstream.on("close", () => {
      entry.upstreamClosed = true;
      client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    held,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.stop());

/** The channel's user ids, asked through the REST API (pusher SDK). */
async function users(channel: string): Promise<string[]> {
  const r = await sdkGet(sdk(server), `/channels/${channel}/users`);
  expect(r.status).toBe(200);
  return (r.json.users as { id: string }[]).map((u) => u.id);
}

describe("a client's close frame", () => {
  it("empties /channels/:c/users before the client's TCP connection has closed", async () => {
    const relay = await halfCloseRelay(server.host, server.port);
    try {
      const channel = `presence-close-frame-${Date.now()}`;
      const client = pusherClient({ ...server, host: "127.0.0.1", port: relay.port }, { presence: { user_id: "alice" } });
      await connected(client);
      await once(client.subscribe(channel), "pusher:subscription_succeeded");
      expect(await users(channel)).toEqual(["alice"]);

      client.disconnect();
      const conn = relay.held[0]!;
      // The server answered the close frame and pusher-js ended its side: the FIN the relay holds.
      await expect.poll(() => conn.clientEnded, { timeout: 10_000 }).toBe(true);
      await expect.poll(() => users(channel), { timeout: 10_000, interval: 50 }).toEqual([]);
      // Still open towards the server: the emptying did not wait for the TCP close.
      expect(conn.upstreamClosed).toBe(false);

      conn.release();
      await conn.closed;
    } finally {
      for (const c of relay.held) c.release();
      await relay.close();
    }
  });
});
