// What a foreign file format becomes: setting names (ours, or an alias from aliases.ts) with their
// values and where each came from, plus the keys that have no counterpart here. load.ts resolves
// the names and puts the entries in the file's place in the precedence.

export interface TranslatedEntry {
  /** Our flat key ("port", "app.enableClientMessages", "apps") or a camelCase alias ("redisClusterMode"). */
  name: string;
  value: unknown;
  /** How a person finds it in their file: "server.redis_url in config.json". */
  label: string;
}

export interface Translation {
  format: string;
  entries: TranslatedEntry[];
  /** Keys read but not acted on, as the file spells them. */
  ignored: string[];
  /** Other notes for the start-up log. */
  warnings: string[];
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An empty list or object, or null, configures nothing, so it is not worth a warning. */
export const isEmpty = (v: unknown) => v === null || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** Every leaf of a JSON object as [dotted path, value]; arrays are leaves. */
export function leaves(value: Record<string, unknown>, prefix = ""): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (isObject(v) && Object.keys(v).length > 0) out.push(...leaves(v, path));
    else out.push([path, v]);
  }
  return out;
}

/** The ignored keys as one warning line naming each, or none. */
export function ignoredWarning(t: Translation, file: string): string[] {
  if (t.ignored.length === 0) return [];
  return [`${file} (${t.format} format): accepted but not acted on: ${t.ignored.join(", ")}`];
}
