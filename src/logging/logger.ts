import type { Logger } from "../core/runtime.ts";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;
export type LogFormat = "pretty" | "json";

type Fields = Record<string, unknown>;

const isFields = (extra: unknown): extra is Fields =>
  typeof extra === "object" && extra !== null && !Array.isArray(extra) && !(extra instanceof Error) &&
  Object.getPrototypeOf(extra) === Object.prototype;

/**
 * A log call's `extra` as fields: a plain object is the fields themselves (appId, socketId,
 * channel, userId, ...); an Error becomes `error` (its message) and `stack`; anything else `detail`.
 */
function fieldsOf(extra: unknown): Fields | undefined {
  if (extra === undefined) return undefined;
  if (isFields(extra)) {
    const error = extra.error;
    if (error instanceof Error) return { ...extra, error: error.message, stack: error.stack };
    return extra;
  }
  if (extra instanceof Error) return { error: extra.message, stack: extra.stack };
  return { detail: extra };
}

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** `[switchboard] debug: message app=1 socket=1.2` and a stack on the lines below it. */
function pretty(level: LogLevel, message: string, fields: Fields | undefined): string {
  let line = `[switchboard] ${level}: ${message}`;
  if (!fields) return line;
  let stack = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (key === "stack") stack = `\n${String(value)}`;
    else line += ` ${key}=${typeof value === "string" && !/[\s"=]/.test(value) && value !== "" ? value : stringify(value)}`;
  }
  return line + stack;
}

/** One JSON object per line: time, level, message, then the fields. */
function json(level: LogLevel, message: string, fields: Fields | undefined): string {
  return stringify({ time: new Date().toISOString(), level, message, ...fields });
}

/**
 * Console logger, one entry per line (json) or per readable line (pretty) so container logs stay
 * greppable. Debug calls below the level cost one comparison: callers pass fields, not strings
 * built for nothing.
 */
export function consoleLogger(level: LogLevel = "info", format: LogFormat = "pretty"): Logger {
  const min = LEVELS[level];
  const render = format === "json" ? json : pretty;
  const at = (lvl: LogLevel, write: (line: string) => void) => (message: string, extra?: unknown) => {
    if (LEVELS[lvl] >= min) write(render(lvl, message, fieldsOf(extra)));
  };
  return {
    debug: at("debug", console.debug),
    info: at("info", console.log),
    warn: at("warn", console.warn),
    error: at("error", console.error),
  };
}

/** LOG_LEVEL, raised to debug by DEBUG=true. */
export function effectiveLevel(config: { logLevel: LogLevel; debug: boolean }): LogLevel {
  return config.debug ? "debug" : config.logLevel;
}
