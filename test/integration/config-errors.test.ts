// A misconfigured deployment must fail fast: the real process exits non-zero before listening
// and its message names the variable, flag or file key to fix.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startServer } from "../helpers/server.ts";

describe("configuration errors stop the process", () => {
  it.each<[string, Parameters<typeof startServer>[0], RegExp]>([
    ["invalid PORT", { env: { PORT: "abc" } }, /PORT/],
    ["invalid --port flag", { args: ["--port", "abc"] }, /--port/],
    ["invalid APP_MAX_BACKEND_EVENTS_PER_SECOND", { env: { APP_MAX_BACKEND_EVENTS_PER_SECOND: "lots" } }, /APP_MAX_BACKEND_EVENTS_PER_SECOND/],
    ["unknown flag", { args: ["--no-such-option"] }, /--no-such-option/],
    ["missing APP_SECRET", { defaultApp: false, env: { APP_ID: "1", APP_KEY: "k" } }, /APP_SECRET/],
    ["invalid APPS JSON", { env: { APPS: "[{" } }, /APPS/],
  ])("%s", async (_name, options, pattern) => {
    const error = await startServer(options).then(() => null, (e: Error) => e);
    expect(error).not.toBeNull();
    // A non-zero exit (78, EX_CONFIG, on Node) before listening; the message names the culprit.
    expect(error!.message).toMatch(/exited with [1-9]\d* before listening/);
    expect(error!.message).toMatch(/configuration error/);
    expect(error!.message).toMatch(pattern);
  });

  it("names the key of a bad config file", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "switchboard-config-"));
    const file = path.join(dir, "bad.json");
    writeFileSync(file, JSON.stringify({ port: 6001, activityTimeout: "soon" }));
    const error = await startServer({ args: ["--config-file", file] }).then(() => null, (e: Error) => e);
    rmSync(dir, { recursive: true, force: true });
    expect(error?.message).toMatch(/exited with [1-9]\d* before listening/);
    expect(error?.message).toContain(`activityTimeout in ${file}`);
  });
});
