// The Redis-family cluster adapter with a backend that stops answering (a SIGSTOPped server: the
// connection stays open, commands never return). Through a scripted backend and a manual clock:
// the first command past the deadline takes the node down, later joins and closes answer from
// local state at once, each tick while down probes the backend, and it comes back up (with a
// resync) once the backend answers again.
import { describe, expect, it } from "vitest";
import { ClusterAdapter } from "../../../src/adapters/cluster/adapter.ts";
import { RECONNECT_GRACE_MS } from "../../../src/adapters/cluster/bus-peers.ts";
import type { ClusterBackend } from "../../../src/adapters/cluster/backend.ts";
import type { TransportEvents } from "../../../src/adapters/cluster/transport.ts";
import type { ScriptName } from "../../../src/adapters/cluster/scripts.ts";
import type { Logger } from "../../../src/core/runtime.ts";
import { ManualTimers } from "../../helpers/harness.ts";

const DEADLINE = 500;

/** Plausible script replies for an empty store (replies.ts shapes). */
const REPLIES: Partial<Record<ScriptName, unknown>> = {
  heartbeat: 0, epoch: "epoch-1", nodeApps: [], itemsPage: ["0"], deadNodes: [], join: [1, 1, 0, 1, 1], leave: [1, 0, 0, "", 1],
};

/** Answers at once, or, while hung, fails each command at the deadline and reports down as the drivers do. */
class ScriptedBackend implements ClusterBackend {
  hung = false;
  probes = 0;
  calls: ScriptName[] = [];
  events?: TransportEvents;
  constructor(private readonly timers: ManualTimers) {}
  open(_bus: string, events: TransportEvents): void {
    this.events = events;
  }
  run(script: ScriptName): Promise<unknown> {
    this.calls.push(script);
    if (!this.hung) return Promise.resolve(REPLIES[script] ?? 1);
    return new Promise((_, reject) => this.timers.setTimeout(() => {
      this.events?.down("no answer within the request deadline");
      reject(new Error("Command timed out"));
    }, DEADLINE));
  }
  async publish(): Promise<void> {}
  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}
  async close(): Promise<void> {}
  probe(): void {
    this.probes++;
    if (!this.hung) this.events?.up();
  }
}

function setup() {
  const timers = new ManualTimers();
  const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
  const backend = new ScriptedBackend(timers);
  const adapter = new ClusterAdapter("scripted", backend, {
    prefix: "p:", nodeTimeoutMs: 2000, timers, logger: quiet, connectTimeoutMs: 1000, requestTimeoutMs: DEADLINE,
  });
  const states: boolean[] = [];
  return { timers, backend, adapter, states, node: { receive: () => {}, backendState: (_: string, up: boolean) => void states.push(up) } };
}

describe("cluster adapter with a backend that stopped answering", () => {
  it("answers within the deadline, then from local state at once, probes each tick, and comes back with a resync", async () => {
    const { timers, backend, adapter, states, node } = setup();
    const started = adapter.start(node);
    backend.events!.up();
    await started;
    expect(states).toEqual([true]);
    expect(await adapter.addConnection("app", "s1", -1)).toBe(true);

    backend.hung = true;
    let answered = false;
    const joining = adapter.join("app", "ch", "s1").then((r) => ((answered = true), r));
    await timers.advance(DEADLINE - 1);
    expect(answered).toBe(false);
    await timers.advance(1);
    expect(await joining).toMatchObject({ ok: true, localOnly: true });
    expect(states).toEqual([true, false]);

    // Down: nothing waits for the backend any more.
    const calls = backend.calls.length;
    expect(await adapter.join("app", "ch", "s2")).toMatchObject({ ok: true, localOnly: true });
    expect(await adapter.leave("app", "ch", "s2")).toMatchObject({ localOnly: true });
    await adapter.removeConnection("app", "s1");
    expect(backend.calls.length).toBe(calls);

    // Each tick while down probes; none brings it up while the backend stays hung.
    await timers.advance(2000);
    expect(backend.probes).toBeGreaterThanOrEqual(3);
    expect(states).toEqual([true, false]);

    backend.hung = false;
    await timers.advance(500);
    expect(states).toEqual([true, false, true]);
    // The resync wrote this node's state back (what was joined while away is restored).
    expect(backend.calls.slice(calls)).toContain("join");
    const probes = backend.probes;
    await timers.advance(2000);
    expect(backend.probes).toBe(probes);
    expect(await adapter.join("app", "ch2", "s3")).not.toHaveProperty("localOnly");
    await adapter.stop();
  });

  it("sweeps no dead nodes for the reconnect grace after an outage: a live node may still be in its back-off", async () => {
    const { timers, backend, adapter, node } = setup();
    const started = adapter.start(node);
    backend.events!.up();
    await started;
    await timers.advance(500);
    expect(backend.calls).toContain("deadNodes"); // a first start sweeps at once
    backend.events!.down("connection reset");
    backend.events!.up();
    await timers.advance(0);
    const calls = backend.calls.length;
    await timers.advance(RECONNECT_GRACE_MS - 1);
    expect(backend.calls.slice(calls)).not.toContain("deadNodes");
    await timers.advance(500);
    expect(backend.calls.slice(calls)).toContain("deadNodes");
    await adapter.stop();
  });
});
