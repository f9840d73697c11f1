// CONSOLE_* settings: on by default for the development app only, and an operator token too short
// to be one is refused at start-up.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.ts";
import { consoleEnabled } from "../../src/console/routes.ts";

const load = (env: Record<string, string>) => loadConfig({ argv: [], env: { ENV_FILE: "", ...env }, readFile: () => "{}" });
const APP = { APP_ID: "a", APP_KEY: "k", APP_SECRET: "s" };

describe("console settings", () => {
  it("CONSOLE_ENABLED: auto by default (on only for the development app), true and false override", () => {
    expect(consoleEnabled(load({}))).toBe(true);
    expect(consoleEnabled(load(APP))).toBe(false);
    expect(consoleEnabled(load({ ...APP, CONSOLE_ENABLED: "true" }))).toBe(true);
    expect(consoleEnabled(load({ CONSOLE_ENABLED: "off" }))).toBe(false);
    expect(consoleEnabled(load({ ...APP, CONSOLE_ENABLED: "AUTO" }))).toBe(false);
    expect(() => load({ CONSOLE_ENABLED: "maybe" })).toThrow(/CONSOLE_ENABLED/);
  });

  it("CONSOLE_TOKEN: empty (off) or at least 16 characters", () => {
    expect(load({}).consoleToken).toBe("");
    expect(load({ CONSOLE_TOKEN: "0123456789abcdef" }).consoleToken).toBe("0123456789abcdef");
    expect(() => load({ CONSOLE_TOKEN: "short" })).toThrow(/CONSOLE_TOKEN/);
  });
});
