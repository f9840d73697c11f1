// A join or leave a cluster driver decides from local state alone (its backend unreachable) is
// marked local only (no webhook: another node may hold the channel) and carries no sequence: one
// from this node's clock would outrank the store's later snapshots, and the catch-up would take
// the store's answer as the older one (test/core/presence.test.ts).
import { afterAll, describe, expect, it } from "vitest";
import type { ClusterLifecycle } from "../../../src/adapters/cluster/lifecycle.ts";
import { createNatsAdapter } from "../../../src/adapters/nats.ts";
import { createRedisAdapter } from "../../../src/adapters/redis.ts";
import { ClusterUnavailableError, type Adapter } from "../../../src/core/adapter.ts";
import type { Logger } from "../../../src/core/runtime.ts";
import { globalTimers as timers } from "../../helpers/harness.ts";
import { freePort } from "../cluster.ts";

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
const port = await freePort(); // nothing listens there
const options = { prefix: "offline:", nodeTimeoutMs: 1000, timers, logger: quiet, connectTimeoutMs: 100 };
const drivers: [string, () => ClusterLifecycle & Adapter][] = [
  ["redis", () => createRedisAdapter({ ...options, url: `redis://127.0.0.1:${port}` })],
  ["nats", () => createNatsAdapter({ ...options, servers: [`ws://127.0.0.1:${port}`] })],
];

describe.each(drivers)("%s adapter with its backend unreachable", (_name, create) => {
  const adapter = create();
  afterAll(() => adapter.stop());

  it("answers joins and leaves from local state, without a sequence", async () => {
    await adapter.start({ receive: () => {} });
    const member = { userId: "u1", userInfo: null };
    const joined = await adapter.join("app", "presence-x", "s1", member);
    expect(joined).toMatchObject({ ok: true, occupied: true, memberAdded: true, seq: 0, localOnly: true });
    const left = await adapter.leave("app", "presence-x", "s1", member);
    expect(left).toMatchObject({ vacated: true, memberRemoved: true, seq: 0, localOnly: true });
    // A joining socket may be told this node's view (the catch-up corrects it); an API read may not.
    expect((await adapter.members("app", "presence-x", { allowLocal: true })).seq).toBe(0);
    await expect(adapter.members("app", "presence-x")).rejects.toThrow(ClusterUnavailableError);
  });
});
