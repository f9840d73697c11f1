// The graceful stop's phases in-process (src/core/shutdown.ts, issue 21): drain (not ready, all
// still served) → close sockets (4200 to new handshakes, open sockets closed over a window, their
// cleanup run) → stop (the API refused, admitted work finished, the adapter last).
import { describe, expect, it } from "vitest";
import { LocalAdapter } from "../../src/adapters/local.ts";
import { ClusterUnavailableError } from "../../src/core/adapter.ts";
import { CloseCode } from "../../src/core/messages.ts";
import { Harness, settle, type FakeClient } from "../helpers/harness.ts";

/** The local adapter, recording the calls a stop's order is about. */
function recordingAdapter(): { adapter: LocalAdapter; calls: string[] } {
  const adapter = new LocalAdapter();
  const calls: string[] = [];
  const removeConnection = adapter.removeConnection.bind(adapter);
  adapter.removeConnection = async (appId, socketId) => {
    calls.push("removeConnection");
    return removeConnection(appId, socketId);
  };
  const stop = adapter.stop.bind(adapter);
  adapter.stop = async () => {
    calls.push("adapter.stop");
    return stop();
  };
  return { adapter, calls };
}

async function subscribedClients(h: Harness, n: number): Promise<FakeClient[]> {
  const clients: FakeClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = await h.connect();
    await c.subscribe("news");
    clients.push(c);
  }
  return clients;
}

const publish = (h: Harness, id: number) => h.server.admit(() => h.server.publish(h.app, "news", "tick", JSON.stringify({ id })));
const ticks = (c: FakeClient) => c.events("tick", "news").map((f) => f.data.id as number);

describe("graceful stop", () => {
  it("drains first: not ready, yet new sockets are accepted and publishes delivered", async () => {
    const h = await new Harness().start();
    const [a] = await subscribedClients(h, 1);
    h.server.drain();
    expect(h.server.isShuttingDown).toBe(true);
    const late = await h.connect();
    expect(late.socketId).not.toBe("");
    expect(late.socket.closed).toBeUndefined();
    await late.subscribe("news");
    await publish(h, 1);
    expect(ticks(a!)).toEqual([1]);
    expect(ticks(late)).toEqual([1]);
    expect(h.eventsOf("shutdown").map((e) => e.phase)).toEqual(["draining"]);
    await h.stop();
  });

  it("then closes the sockets with 4200 spread over SHUTDOWN_CLOSE_SPREAD_MS, refusing new ones, still publishing", async () => {
    const { adapter, calls } = recordingAdapter();
    const h = await new Harness({ adapter, env: { SHUTDOWN_CLOSE_SPREAD_MS: "1000" } }).start();
    const clients = await subscribedClients(h, 40);
    h.server.drain();
    const closing = h.server.closeSockets();
    await settle();
    const closedNow = clients.filter((c) => c.socket.closed).length;
    // A share per 50 ms tick, not all at once.
    expect(closedNow).toBeGreaterThan(0);
    expect(closedNow).toBeLessThan(10);
    const refused = await h.connect();
    expect(refused.socket.closed?.code).toBe(CloseCode.Reconnect);
    expect(refused.events("pusher:connection_established")).toEqual([]);
    await publish(h, 2);
    for (const c of clients) expect(ticks(c)).toEqual(c.socket.closed ? [] : [2]);
    await h.timers.advance(500);
    const halfway = clients.filter((c) => c.socket.closed).length;
    expect(halfway).toBeGreaterThan(closedNow);
    expect(halfway).toBeLessThan(40);
    await h.timers.advance(600);
    await closing;
    for (const c of clients) {
      expect(c.socket.closed?.code).toBe(CloseCode.Reconnect);
      expect(c.events("pusher:error").at(-1)?.data).toEqual({ code: 4200, message: "Server is shutting down, reconnect" });
    }
    // Every socket's cleanup ran (vacated once), and the adapter is still up for the API.
    expect(calls.filter((c) => c === "removeConnection")).toHaveLength(40);
    expect(h.eventsOf("channel_vacated")).toHaveLength(1);
    expect(calls).not.toContain("adapter.stop");
    await h.stop();
  });

  it("a handshake that passed its checks before the closing is closed with 4200 once the adapter answers", async () => {
    const { adapter, calls } = recordingAdapter();
    const addConnection = adapter.addConnection.bind(adapter);
    let admitSocket!: () => void;
    adapter.addConnection = (...args) => new Promise((resolve) => (admitSocket = () => resolve(addConnection(...args))));
    const h = await new Harness({ adapter }).start();
    const joining = await h.connect();
    const closing = h.server.closeSockets(0);
    admitSocket();
    await settle();
    await closing;
    expect(joining.events("pusher:connection_established")).toEqual([]);
    expect(joining.socket.closed?.code).toBe(CloseCode.Reconnect);
    expect(calls).toEqual(["removeConnection"]);
    await h.stop();
  });

  it("stops last: the API is refused with a 503 error, admitted work finishes, then the adapter stops", async () => {
    const { adapter, calls } = recordingAdapter();
    const h = await new Harness({ adapter }).start();
    await subscribedClients(h, 2);
    let finish!: () => void;
    const admitted = h.server.admit(() => new Promise<void>((resolve) => (finish = resolve)).then(() => void calls.push("admitted work done")));
    await h.server.closeSockets(0);
    const stopping = h.server.stop();
    await settle();
    expect(h.server.stopper.phase).toBe("stopping");
    await expect(publish(h, 3)).rejects.toBeInstanceOf(ClusterUnavailableError);
    expect(calls).not.toContain("adapter.stop");
    finish();
    await admitted;
    await stopping;
    expect(calls).toEqual(["removeConnection", "removeConnection", "admitted work done", "adapter.stop"]);
    expect(h.eventsOf("shutdown").map((e) => e.phase)).toEqual(["draining", "closing", "stopping", "stopped"]);
    expect(h.logs.filter((l) => l.message.startsWith("shutdown:")).map((l) => l.level)).toEqual(["info", "info", "info", "info"]);
  });

  it("a hung cleanup or request holds the adapter's stop back only so long", async () => {
    const { adapter, calls } = recordingAdapter();
    adapter.removeConnection = () => new Promise(() => {});
    const h = await new Harness({ adapter }).start();
    await subscribedClients(h, 1);
    void h.server.admit(() => new Promise(() => {}));
    const stopped = h.server.shutdown();
    await h.timers.advance(4_000);
    expect(calls).toEqual([]);
    await h.timers.advance(7_000);
    await stopped;
    expect(calls).toEqual(["adapter.stop"]);
    expect(h.logs.filter((l) => l.level === "warn").map((l) => l.message)).toEqual([
      "shutdown: socket cleanups still running after 5000 ms; going on",
      "shutdown: API requests still running after 5000 ms; going on",
    ]);
  });
});
