import { describe, expect, it } from "vitest";
import { Rerun } from "../../../src/adapters/cluster/rerun.ts";

describe("Rerun", () => {
  it("folds requests made during a run into one more run", async () => {
    let runs = 0;
    let release!: () => void;
    const rerun = new Rerun(async () => {
      runs++;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      return true;
    }, (error) => { throw error; });
    const first = rerun.run();
    void rerun.run();
    void rerun.run();
    release();
    await first;
    await rerun.idle();
    expect(runs).toBe(2);
  });

  it("hands a failing job's error to onError, and neither run() nor idle() rejects", async () => {
    const errors: unknown[] = [];
    const rerun = new Rerun(async () => {
      throw new Error("store down");
    }, (error) => errors.push(error));
    await expect(rerun.run()).resolves.toBeUndefined();
    await expect(rerun.idle()).resolves.toBeUndefined();
    expect(errors.map((e) => (e as Error).message)).toEqual(["store down"]);
  });
});
