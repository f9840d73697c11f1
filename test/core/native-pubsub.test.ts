// The native pub/sub contract (Bun's server.publish): a broadcast is one runtime call, and only
// when the runtime reports backpressure does the registry check each subscriber's buffer bound.
// Runtime sockets are small in-memory fakes here; test/integration/backpressure.test.ts drives the
// real thing on every runtime.
import { describe, expect, it } from "vitest";
import { EventStream } from "../../src/core/events.ts";
import type { App } from "../../src/core/app.ts";
import { Connection } from "../../src/core/connection.ts";
import { LocalRegistry } from "../../src/core/registry.ts";
import type { NativePubSub, RawSocket } from "../../src/core/runtime.ts";

const NO_EVENTS = new EventStream(() => 0, console);

const BOUND = 1000;

class FakeSocket implements RawSocket {
  sent: string[] = [];
  closed?: { code: number; reason: string };
  bufferedChecks = 0;
  topics = new Set<string>();
  constructor(public buffered = 0) {}
  send(frame: string) {
    this.sent.push(frame);
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
  bufferedAmount() {
    this.bufferedChecks++;
    return this.buffered;
  }
  subscribe(topic: string) {
    this.topics.add(topic);
  }
  unsubscribe(topic: string) {
    this.topics.delete(topic);
  }
}

function setup(backedUp: boolean) {
  const published: { topic: string; frame: string; except?: RawSocket }[] = [];
  const pubsub: NativePubSub = {
    publish: (topic, frame) => (published.push({ topic, frame }), backedUp),
    publishExcept: (except, topic, frame) => (published.push({ topic, frame, except }), backedUp),
  };
  const registry = new LocalRegistry(pubsub);
  const app = { id: "app" } as App;
  const join = (id: string, buffered: number) => {
    const socket = new FakeSocket(buffered);
    const conn = new Connection(socket, 0, BOUND, 10, { error: (_m: string, e: unknown) => { throw e; }, debug() {} });
    conn.id = id;
    conn.app = app;
    conn.state = "open";
    registry.addSocket(conn);
    registry.join(conn, "ch");
    return socket;
  };
  return { registry, published, join };
}

describe("native pub/sub fan-out", () => {
  it("publishes once to the channel's topic and subscribes each socket to it", () => {
    const { registry, published, join } = setup(false);
    const a = join("1.1", 0);
    const b = join("2.2", 0);
    registry.deliver("app", "ch", "frame", undefined, NO_EVENTS);
    expect(published).toEqual([{ topic: "app\nch", frame: "frame" }]);
    expect([...a.topics]).toEqual(["app\nch"]);
    expect([...b.topics]).toEqual(["app\nch"]);
    // Nothing went through the per-socket path.
    expect(a.sent).toEqual([]);
  });

  it("publishes through the excluded socket for socket_id exclusion", () => {
    const { registry, published, join } = setup(false);
    join("1.1", 0);
    const except = join("2.2", 0);
    registry.deliver("app", "ch", "frame", "2.2", NO_EVENTS);
    expect(published).toEqual([{ topic: "app\nch", frame: "frame", except }]);
  });

  it("does not look at any socket's buffer when the runtime reports no backpressure", () => {
    const { registry, join } = setup(false);
    const slow = join("1.1", BOUND * 10);
    registry.deliver("app", "ch", "frame", undefined, NO_EVENTS);
    expect(slow.bufferedChecks).toBe(0);
    expect(slow.closed).toBeUndefined();
  });

  it("closes only the subscribers past the bound with 4100 when the runtime reports backpressure", () => {
    const { registry, join } = setup(true);
    const fine = join("1.1", BOUND);
    const slow = join("2.2", BOUND + 1);
    registry.deliver("app", "ch", "frame", undefined, NO_EVENTS);
    expect(fine.closed).toBeUndefined();
    expect(slow.closed?.code).toBe(4100);
    expect(JSON.parse(slow.sent.at(-1)!)).toMatchObject({ event: "pusher:error", data: { code: 4100 } });
  });

  it("checks after an excluding publish too", () => {
    const { registry, join } = setup(true);
    const slow = join("1.1", BOUND + 1);
    join("2.2", 0);
    registry.deliver("app", "ch", "frame", "2.2", NO_EVENTS);
    expect(slow.closed?.code).toBe(4100);
  });
});
