// --help is generated from the schemas, so it cannot drift from what the loader accepts: every
// flag appears with its environment variable, its default and a line saying what it means.
import { describe, expect, it } from "vitest";
import { commandOf, helpText } from "../../src/config/help.ts";
import { SERVER_SETTING_KEYS } from "../../src/config/schema.ts";
import { VERSION } from "../../src/config/version.ts";
import { APP_SETTING_KEYS } from "../../src/core/app.ts";
import { driverKinds, driverSettings, driversOf, selectorKey } from "../../src/drivers/index.ts";
import pkg from "../../package.json" with { type: "json" };

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const upperSnake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

const help = helpText();
const lines = help.split("\n");

/** The option's head line ("  --port, PORT  (default 6001)") and the meaning line under it. */
function entry(flag: string, env: string): { head: string; meaning: string } {
  const i = lines.findIndex((l) => l.startsWith(`  ${flag}, ${env}`));
  expect(i, `${flag}, ${env} in --help`).toBeGreaterThanOrEqual(0);
  return { head: lines[i]!, meaning: lines[i + 1]!.trim() };
}

describe("--help", () => {
  it("lists every server setting with its variable, default and meaning", () => {
    for (const key of SERVER_SETTING_KEYS) {
      const { head, meaning } = entry(`--${kebab(key)}`, upperSnake(key));
      expect(head, key).toMatch(/\(default .+\)$/);
      expect(meaning.length, key).toBeGreaterThan(10);
    }
    expect(entry("--port", "PORT").head).toBe("  --port, PORT  (default 6001)");
    expect(entry("--shutdown-grace-period-ms", "SHUTDOWN_GRACE_PERIOD_MS").head).toContain("(default 3000)");
  });

  it("lists every driver kind's selector, every driver and every driver setting", () => {
    for (const { kind, default: fallback } of driverKinds()) {
      const key = selectorKey(kind);
      expect(entry(`--${kebab(key)}`, upperSnake(key)).head).toContain(`(default ${fallback})`);
      for (const driver of driversOf(kind)) expect(help).toContain(`      ${driver.name}: ${driver.help}`);
    }
    for (const [key, { drivers }] of driverSettings()) {
      const readers = /\[([^\]]+)\]$/.exec(entry(`--${kebab(key)}`, upperSnake(key)).meaning)?.[1] ?? "";
      for (const driver of drivers) expect(readers, key).toMatch(new RegExp(`(^|[ :;,])${driver.name}(,|;|$)`));
    }
    expect(entry("--redis-url", "REDIS_URL").head).toContain("(default redis://127.0.0.1:6379)");
    // A setting several kinds share names each kind once, its drivers once.
    expect(entry("--redis-url", "REDIS_URL").meaning).toMatch(/\[adapter: redis; cache: redis; queue: redis; rate-limiter: redis\]$/);
    expect(entry("--upstash-redis-rest-url", "UPSTASH_REDIS_REST_URL").meaning).toMatch(/\[upstash\]$/);
  });

  it("lists every app setting as --app-* with its APP_* variable and meaning", () => {
    for (const key of APP_SETTING_KEYS) expect(entry(`--app-${kebab(key)}`, `APP_${upperSnake(key)}`).meaning.length, key).toBeGreaterThan(5);
    expect(entry("--app-enable-client-messages", "APP_ENABLE_CLIENT_MESSAGES").head).toContain("(default false)");
    expect(help).toContain("  APPS\n");
  });

  it("starts with the version, and names the flags that only exist on the command line", () => {
    expect(lines[0]).toBe(`Switchboard ${VERSION}: a Pusher Channels compatible server.`);
    for (const flag of ["-h, --help", "--version", "--config-file, CONFIG_FILE", "--prefer-config-file", "--env-file, ENV_FILE  (default ./.env if it exists)"]) {
      expect(help).toContain(`  ${flag}\n`);
    }
  });
});

describe("commandOf", () => {
  it("recognises --help, -h and --version anywhere on the line", () => {
    expect(commandOf(["--port", "1", "--help"])).toBe("help");
    expect(commandOf(["-h"])).toBe("help");
    expect(commandOf(["--version"])).toBe("version");
    expect(commandOf(["--port", "1"])).toBe("run");
  });

  it("--version is package.json's", () => {
    expect(VERSION).toBe(pkg.version);
  });
});
