// A round-robin TCP balancer for tests, like a layer-4 load balancer in front of a cluster: each
// incoming connection goes to the next backend port in turn and bytes are piped both ways
// unchanged. So an HTTP keep-alive connection sticks to one node, and each WebSocket lands on the
// next node. Loopback only. With a health path it skips backends that do not answer it with a
// 2xx, as a balancer's health check takes a draining node out (a rolling restart).
import { request } from "node:http";
import { createServer, Socket, type Server } from "node:net";

export interface Balancer {
  port: number;
  /** Connections accepted so far per backend port (in backend order). */
  counts(): number[];
  /** Stops listening and destroys every open connection (both sides). */
  close(): Promise<void>;
}

export interface BalancerOptions {
  /** Polled on each backend (e.g. "/ready"); a backend is chosen only while it answers 2xx. */
  healthPath?: string;
  healthIntervalMs?: number;
}

/** GET host:port/path answered 2xx within a second. */
function healthy(host: string, port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, timeout: 1000, agent: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 300);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(false));
    req.end();
  });
}

export async function startBalancer(backends: number[], host = "127.0.0.1", options: BalancerOptions = {}): Promise<Balancer> {
  if (backends.length === 0) throw new Error("balancer needs at least one backend");
  let next = 0;
  const counts = backends.map(() => 0);
  const up = backends.map(() => true);
  const { healthPath } = options;
  let polling = false;
  const poll = healthPath === undefined ? undefined : setInterval(() => {
    if (polling) return;
    polling = true;
    void Promise.all(backends.map((port, i) => healthy(host, port, healthPath).then((ok) => void (up[i] = ok))))
      .finally(() => (polling = false));
  }, options.healthIntervalMs ?? 100);
  /** The next healthy backend in turn; plain round robin when none is. */
  const choose = () => {
    for (let k = 0; k < backends.length; k++) {
      const i = (next + k) % backends.length;
      if (up[i]) {
        next = (i + 1) % backends.length;
        return i;
      }
    }
    const i = next;
    next = (next + 1) % backends.length;
    return i;
  };
  const open = new Set<Socket>();
  const track = (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  };

  // allowHalfOpen on both sides: a FIN from one end is passed on as a FIN (via pipe's end()), and
  // each socket closes once both of its directions are done, so nothing in flight is cut off.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const i = choose();
    counts[i]!++;
    client.pause();
    const upstream = new Socket({ allowHalfOpen: true });
    track(client);
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // An error or reset on either side, or one side closing completely, tears both down.
    client.pipe(upstream);
    upstream.pipe(client);
    const teardown = () => {
      client.destroy();
      upstream.destroy();
    };
    client.once("error", teardown);
    upstream.once("error", teardown);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
    upstream.connect(backends[i]!, host, () => client.resume());
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });

  return {
    port,
    counts: () => [...counts],
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(poll);
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
