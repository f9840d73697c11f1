// loadConfig over the real fixture files (test/fixtures/): Socket Rush's, Sockudo's and Soketi's
// own examples. Any other path is missing, so no ./.env is read unless a test names one.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { ConfigError, loadConfig, type Config } from "../../../src/config/load.ts";
import { parseDotenv } from "../../../src/config/dotenv.ts";

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures");
export const fixture = (name: string) => path.join(FIXTURES, name);

export function load(argv: string[] = [], env: Record<string, string> = {}, extra: Record<string, string> = {}): Config {
  return loadConfig({
    argv,
    env,
    readFile: (p) => {
      if (p in extra) return extra[p]!;
      if (p.startsWith(FIXTURES)) return readFileSync(p, "utf8");
      throw Object.assign(new Error(`ENOENT: no such file ${p}`), { code: "ENOENT" });
    },
  });
}

/** A fixture .env as the environment a process would get. */
export function envFixture(name: string): Record<string, string> {
  return parseDotenv(readFileSync(fixture(name), "utf8"), name);
}

export function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigError");
}
