import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { WebhookEvent } from "../../src/webhooks/payload.ts";
import { VacancyDelay } from "../../src/webhooks/vacancy.ts";
import { globalTimers } from "./harness.ts";

const A = { id: "1" };
const occupied: WebhookEvent = { name: "channel_occupied", channel: "presence-c" };
const vacated: WebhookEvent = { name: "channel_vacated", channel: "presence-c" };
const added = (u: string): WebhookEvent => ({ name: "member_added", channel: "presence-c", user_id: u });
const removed = (u: string): WebhookEvent => ({ name: "member_removed", channel: "presence-c", user_id: u });

describe("VacancyDelay (spec §7.3)", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  const setup = (delay: number) => {
    const out: string[] = [];
    const v = new VacancyDelay(globalTimers, delay, (_a, e) => out.push(e.user_id ? `${e.name} ${e.user_id}` : e.name));
    return { out, v };
  };

  it("passes everything at once with no delay", () => {
    const { out, v } = setup(0);
    v.offer(A, removed("u"));
    v.offer(A, vacated);
    expect(out).toEqual(["member_removed u", "channel_vacated"]);
  });

  it("holds removals for the delay, in the order they happened", () => {
    const { out, v } = setup(3000);
    v.offer(A, removed("u"));
    v.offer(A, vacated);
    vi.advanceTimersByTime(2999);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(out).toEqual(["member_removed u", "channel_vacated"]);
  });

  it("drops a removal and its re-add when the client comes back within the delay (page reload)", () => {
    const { out, v } = setup(3000);
    v.offer(A, removed("u"));
    v.offer(A, vacated);
    vi.advanceTimersByTime(500);
    v.offer(A, occupied);
    v.offer(A, added("u"));
    vi.advanceTimersByTime(5000);
    expect(out).toEqual([]);
  });

  it("pairs per user: another user's arrival does not cancel the removal", () => {
    const { out, v } = setup(3000);
    v.offer(A, removed("u"));
    v.offer(A, added("w"));
    expect(out).toEqual(["member_added w"]);
    vi.advanceTimersByTime(3000);
    expect(out).toEqual(["member_added w", "member_removed u"]);
  });

  it("releases what it holds on flushAll (shutdown)", () => {
    const { out, v } = setup(3000);
    v.offer(A, removed("u"));
    v.offer(A, vacated);
    v.flushAll();
    expect(out).toEqual(["member_removed u", "channel_vacated"]);
  });
});
