import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Batcher, MAX_BATCH_EVENTS } from "../../src/webhooks/batcher.ts";
import type { WebhookEvent } from "../../src/webhooks/payload.ts";
import { app, globalTimers } from "./harness.ts";

const ev = (channel: string): WebhookEvent => ({ name: "channel_occupied", channel });

describe("Batcher (spec §7.3)", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  const setup = () => {
    const out: { appId: string; channels: string[] }[] = [];
    const b = new Batcher(globalTimers, 50, (a, _w, events) => out.push({ appId: a.id, channels: events.map((e) => e.channel) }));
    return { out, b };
  };

  it("without batching, every event is its own body at once", () => {
    const { out, b } = setup();
    const a = app();
    b.add(a, 0, a.webhooks[0]!, ev("x"), false);
    b.add(a, 0, a.webhooks[0]!, ev("y"), false);
    expect(out).toEqual([{ appId: "1", channels: ["x"] }, { appId: "1", channels: ["y"] }]);
  });

  it("collects one (app, webhook)'s events for the window, in order, never mixing apps", () => {
    const { out, b } = setup();
    const a = app();
    const other = app({ id: "2", key: "k2" });
    b.add(a, 0, a.webhooks[0]!, ev("x"), true);
    b.add(other, 0, other.webhooks[0]!, ev("o"), true);
    vi.advanceTimersByTime(30);
    b.add(a, 0, a.webhooks[0]!, ev("y"), true);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(20);
    expect(out).toEqual([{ appId: "1", channels: ["x", "y"] }, { appId: "2", channels: ["o"] }]);
  });

  it("sends a full batch (100 events) at once", () => {
    const { out, b } = setup();
    const a = app();
    for (let i = 0; i < MAX_BATCH_EVENTS + 1; i++) b.add(a, 0, a.webhooks[0]!, ev(`c${i}`), true);
    expect(out).toHaveLength(1);
    expect(out[0]!.channels).toHaveLength(MAX_BATCH_EVENTS);
    b.flushAll();
    expect(out[1]!.channels).toEqual([`c${MAX_BATCH_EVENTS}`]);
  });
});
