import { describe, expect, it } from "vitest";
import { AlarmTimers, type AlarmClock } from "../../../runtimes/workers/alarm-timers.ts";

/** The object's alarm as storage keeps it: one time or none. */
class Clock implements AlarmClock {
  at: number | null = null;
  writes = 0;
  async setAlarm(at: number) {
    this.at = at;
    this.writes++;
  }
  async deleteAlarm() {
    this.at = null;
    this.writes++;
  }
}

const flush = () => new Promise<void>((r) => queueMicrotask(r));

describe("AlarmTimers", () => {
  it("keeps the alarm at the earliest timer, with one storage write per turn", async () => {
    let now = 1000;
    const clock = new Clock();
    const timers = new AlarmTimers(clock, { error: () => {} }, () => now);
    timers.setTimeout(() => {}, 500);
    timers.setTimeout(() => {}, 100);
    const interval = timers.setInterval(() => {}, 300);
    await flush();
    expect(clock.at).toBe(1100);
    expect(clock.writes).toBe(1);
    timers.clearInterval(interval);
    await flush();
    expect(clock.at).toBe(1100);
    expect(clock.writes).toBe(1);
  });

  it("runs what is due when the alarm fires, repeats intervals, and clears the alarm when nothing is left", async () => {
    let now = 0;
    const clock = new Clock();
    const timers = new AlarmTimers(clock, { error: () => {} }, () => now);
    const fired: string[] = [];
    timers.setTimeout(() => fired.push("once"), 100);
    const every = timers.setInterval(() => fired.push("every"), 100);
    timers.setTimeout(() => {
      throw new Error("a failing callback does not stop the others");
    }, 100);
    await flush();
    // Storage clears an alarm that fired.
    const fire = () => {
      clock.at = null;
      timers.fire();
    };
    now = 100;
    fire();
    await flush();
    expect(fired.sort()).toEqual(["every", "once"]);
    expect(clock.at).toBe(200);
    now = 200;
    fire();
    await flush();
    expect(clock.at).toBe(300);
    expect(fired.filter((f) => f === "every")).toHaveLength(2);
    timers.clearInterval(every);
    await flush();
    expect(clock.at).toBeNull();
    expect(timers.size).toBe(0);
  });
});
