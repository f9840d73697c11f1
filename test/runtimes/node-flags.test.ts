// The young-generation limit (runtimes/node-flags.ts) steps aside for a semi-space flag of the
// operator's own, on the command line or in NODE_OPTIONS.
import { describe, expect, it } from "vitest";
import { limitYoungGeneration } from "../../runtimes/node-flags.ts";

describe("limitYoungGeneration", () => {
  it("leaves V8's default growth when a semi-space flag was passed", () => {
    expect(limitYoungGeneration(["--max-semi-space-size=16"])).toBe(false);
    expect(limitYoungGeneration([], "--semi_space_growth_factor=2")).toBe(false);
  });

  it("sets the growth factor otherwise", () => {
    expect(limitYoungGeneration(["--enable-source-maps"], "")).toBe(true);
  });
});
