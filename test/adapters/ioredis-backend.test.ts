// The ioredis backend's up/down state on a real Redis: losing only the bus subscriber (commands
// still work) is an outage too, since the node hears no other node until it is subscribed again.
// And, on stand-in connections, a server that stops answering (the socket stays open): commands
// fail at the deadline, the backend goes down, and a PING probe brings it back.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { COMMAND_TIMED_OUT, IoredisBackend, type IoredisConnections } from "../../src/adapters/ioredis-backend.ts";
import { RedisBackend } from "../../src/adapters/redis.ts";
import { settle } from "../helpers/harness.ts";
import { eventually, reachable, requireService, uniquePrefix } from "./cluster.ts";

const REDIS_URL = "redis://127.0.0.1:6379";
const available = await requireService(reachable(6379), "Redis on 127.0.0.1:6379");

describe.skipIf(!available)("ioredis backend", () => {
  const admin = new Redis(REDIS_URL);
  const backend = new RedisBackend(REDIS_URL);
  afterAll(async () => {
    await backend.close();
    admin.disconnect();
  });

  it("goes down when its bus subscriber is cut off and up again once it is re-subscribed", async () => {
    const bus = `${uniquePrefix("sub")}bus`;
    const states: string[] = [];
    const messages: string[] = [];
    backend.open(bus, {
      message: (payload) => void messages.push(payload),
      up: () => void states.push("up"),
      down: (reason) => void states.push(`down: ${reason}`),
      failed: (operation, error) => void states.push(`failed: ${operation}: ${(error as Error).message}`),
    });
    await eventually(() => states.includes("up"), 10_000, "the backend to come up");
    await admin.publish(bus, "before");
    await eventually(() => messages.includes("before"), 5_000, "a bus message");

    // Only this backend's subscriber connection (other test files share the Redis): the command
    // connection keeps working.
    const sub = (backend as unknown as { sub: Redis }).sub;
    const port = (sub as unknown as { stream: { localPort: number } }).stream.localPort;
    expect(await admin.client("KILL", "ADDR", `127.0.0.1:${port}`)).toBe(1);
    await eventually(() => states.length >= 3, 10_000, "down and up again");
    expect(states).toEqual(["up", "down: bus subscriber disconnected", "up"]);
    await admin.publish(bus, "after");
    await eventually(() => messages.includes("after"), 5_000, "a bus message after the subscriber came back");
  });
});

/** A stand-in for an ioredis connection: events, a status, scripts and PING answered as the test says. */
class FakeConnection {
  status = "ready";
  private readonly handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  /** What the next commands do: answer, or fail as ioredis does past `commandTimeout`. */
  answer: "ok" | "timeout" | "error" = "ok";
  pings = 0;
  on(event: string, handler: (...args: unknown[]) => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler]);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }
  defineCommand(name: string): void {
    (this as unknown as Record<string, unknown>)[name] = () => this.reply("script result");
  }
  ping(): Promise<unknown> {
    this.pings++;
    return this.reply("PONG");
  }
  private reply(value: unknown): Promise<unknown> {
    if (this.answer === "timeout") return Promise.reject(new Error(COMMAND_TIMED_OUT));
    if (this.answer === "error") return Promise.reject(new Error("ERR something else"));
    return Promise.resolve(value);
  }
  disconnect(): void {}
  quit(): Promise<unknown> {
    return Promise.resolve("OK");
  }
}

class FakeBackend extends IoredisBackend<Redis> {
  readonly fakeCmd = new FakeConnection();
  readonly fakeSub = new FakeConnection();
  /** Subscribes refused before they work (a cluster still forming answers CLUSTERDOWN). */
  refusedSubscribes = 0;
  subscribes = 0;
  protected connect(): IoredisConnections<Redis> {
    return {
      cmd: this.fakeCmd as unknown as Redis,
      sub: this.fakeSub as unknown as Redis,
      messageEvent: "message",
      subscribe: async () => {
        this.subscribes++;
        if (this.refusedSubscribes > 0) {
          this.refusedSubscribes--;
          throw new Error("CLUSTERDOWN The cluster is down");
        }
      },
      unsubscribe: async () => {},
      publish: () => this.fakeCmd.ping(),
    };
  }
}

describe("ioredis backend with a server that stopped answering", () => {
  const open = (refusedSubscribes = 0) => {
    const backend = new FakeBackend();
    backend.refusedSubscribes = refusedSubscribes;
    const states: string[] = [];
    backend.open("bus", {
      message: () => {},
      up: () => void states.push("up"),
      down: (reason) => void states.push(`down: ${reason}`),
      failed: (operation) => void states.push(`failed: ${operation}`),
    });
    return { backend, states };
  };

  it("goes down when a command outlives its deadline, though the connection stays ready", async () => {
    const { backend, states } = open();
    await settle();
    expect(states).toEqual(["up"]);
    backend.fakeCmd.answer = "timeout";
    await expect(backend.run("join", ["k"], [])).rejects.toThrow(COMMAND_TIMED_OUT);
    expect(states).toEqual(["up", `down: no answer within the request deadline (${COMMAND_TIMED_OUT})`]);
    // More timeouts while down say nothing new.
    await expect(backend.publish("bus", "x")).rejects.toThrow(COMMAND_TIMED_OUT);
    expect(states).toHaveLength(2);
  });

  it("is probed with PING while hung and comes back up once it answers; no 'ready' is needed", async () => {
    const { backend, states } = open();
    await settle();
    backend.fakeCmd.answer = "timeout";
    await expect(backend.run("join", ["k"], [])).rejects.toThrow();
    backend.probe();
    await settle();
    expect(states.slice(2)).toEqual(["failed: probing a backend that stopped answering"]);
    backend.fakeCmd.answer = "ok";
    backend.probe();
    await settle();
    expect(states.at(-1)).toBe("up");
    expect(backend.fakeCmd.pings).toBe(2);
    // Up again: nothing to probe.
    backend.probe();
    expect(backend.fakeCmd.pings).toBe(2);
  });

  it("does not take other command errors for a hang", async () => {
    const { backend, states } = open();
    await settle();
    backend.fakeCmd.answer = "error";
    await expect(backend.run("join", ["k"], [])).rejects.toThrow("ERR something else");
    backend.probe();
    expect(states).toEqual(["up"]);
    expect(backend.fakeCmd.pings).toBe(0);
  });

  it("comes up on a reconnect's ready even while it was hung", async () => {
    const { backend, states } = open();
    await settle();
    backend.fakeCmd.answer = "timeout";
    await expect(backend.run("join", ["k"], [])).rejects.toThrow();
    backend.fakeCmd.answer = "ok";
    backend.fakeCmd.emit("close");
    backend.fakeCmd.emit("ready");
    expect(states.at(-1)).toBe("up");
  });

  it("subscribes to the node channel again at the next probe when a subscribe was refused", async () => {
    const { backend, states } = open(1);
    await settle();
    // Refused, and no "ready" of the subscriber comes to try again: only the probe does.
    expect(states).toEqual(["failed: subscribing to the bus channel bus"]);
    backend.probe();
    await settle();
    expect(states).toEqual(["failed: subscribing to the bus channel bus", "up"]);
    expect(backend.subscribes).toBe(2);
  });
});
