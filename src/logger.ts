import type { Logger } from "./core/runtime.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

function detail(extra: unknown): string {
  if (extra === undefined) return "";
  if (extra instanceof Error) return ` ${extra.stack ?? extra.message}`;
  try {
    return ` ${JSON.stringify(extra)}`;
  } catch {
    return ` ${String(extra)}`;
  }
}

/** Plain console logger; one line per entry so container logs stay greppable. */
export function consoleLogger(level: LogLevel = "info"): Logger {
  const min = LEVELS[level];
  const at = (lvl: LogLevel, write: (line: string) => void) => (message: string, extra?: unknown) => {
    if (LEVELS[lvl] >= min) write(`[switchboard] ${lvl}: ${message}${detail(extra)}`);
  };
  return {
    debug: at("debug", console.debug),
    info: at("info", console.log),
    warn: at("warn", console.warn),
    error: at("error", console.error),
  };
}
