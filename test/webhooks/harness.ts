// Shared bits for the webhook unit tests: Timers over the (fakeable) globals, a silent logger, an app.
import { parseApp, type App } from "../../src/core/app.ts";
import type { Logger } from "../../src/core/runtime.ts";

export { globalTimers } from "../helpers/harness.ts";

export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

export function app(extra: Record<string, unknown> = {}): App {
  return parseApp({ id: "1", key: "app-key", secret: "app-secret", webhooks: [{ url: "https://hooks.example/p", event_types: ["channel_occupied"] }], ...extra });
}
