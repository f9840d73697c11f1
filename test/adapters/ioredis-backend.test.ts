// The ioredis backend's up/down state on a real Redis: losing only the bus subscriber (commands
// still work) is an outage too, since the node hears no other node until it is subscribed again.
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisBackend } from "../../src/adapters/redis.ts";
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
