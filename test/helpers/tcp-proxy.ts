// A TCP proxy between a server under test and its database, which the test can cut: while cut,
// new connections are accepted but never forwarded and open ones go silent (a blackholed network,
// the hard case: nothing fails fast). restore() drops what was held and forwards again.
import { createServer, Socket, type Server } from "node:net";

export interface TcpProxy {
  port: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
  let cut = false;
  const pairs = new Set<[Socket, Socket | undefined]>();
  const server: Server = createServer((client) => {
    client.on("error", () => client.destroy());
    if (cut) {
      const held: [Socket, Socket | undefined] = [client, undefined];
      pairs.add(held);
      client.on("close", () => pairs.delete(held));
      return;
    }
    const upstream = new Socket();
    const pair: [Socket, Socket | undefined] = [client, upstream];
    pairs.add(pair);
    upstream.on("error", () => client.destroy());
    upstream.connect(targetPort, targetHost, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    cut() {
      cut = true;
      // Open connections go silent both ways: bytes are neither forwarded nor refused.
      for (const [client, upstream] of pairs) {
        client.unpipe();
        upstream?.unpipe();
        client.pause();
        upstream?.pause();
      }
    },
    restore() {
      cut = false;
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream?.destroy();
      }
      pairs.clear();
    },
    async close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream?.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
