// Soketi's SOKETI_* environment (soketi/soketi src/cli/cli.ts envVariables), as a migration aid:
// the names with a counterpart are in aliases.ts; here, what is Soketi-specific beyond a rename.
import { ALIASES, NOT_ACTED_ON } from "./aliases.ts";

const KNOWN = new Set([...Object.values(ALIASES).flat(), ...NOT_ACTED_ON].filter((a) => a.from === "Soketi").map((a) => a.name));

/** A SOKETI_* variable Switchboard does not know: a typo, or a Soketi option with no counterpart. */
export function unknownSoketiNames(env: Record<string, string | undefined>): string[] {
  return Object.keys(env).filter((name) => name.startsWith("SOKETI_") && env[name] !== undefined && !KNOWN.has(name)).sort();
}

/** Soketi serves TLS as soon as it has a certificate and a key; with SSL_ENABLED unset, so do we. */
export function soketiSslEnabled(env: Record<string, string | undefined>): boolean {
  return Boolean(env.SOKETI_SSL_CERT && env.SOKETI_SSL_KEY);
}
