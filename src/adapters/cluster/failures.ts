// Backend failures as a person running the server needs to see them: at warn, naming the driver
// and the operation, but once per operation per outage. While the backend is away every command
// fails; one line per command would bury the log, so repeats are counted and the count is
// written when the backend is back (or with the next warning, for failures that outlast REPEAT_MS).
import { ClusterUnavailableError } from "../../core/adapter.ts";
import type { Logger } from "../../core/runtime.ts";

/** A failure that keeps happening while the backend is up (a bad reply) warns again this often. */
export const REPEAT_MS = 60_000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The refusal a caller turns into 503: the driver, why, and what was not done. */
export function unavailable(driver: string, operation: string, cause?: unknown): ClusterUnavailableError {
  const why = cause === undefined ? "is unreachable" : `failed (${errorText(cause)})`;
  return new ClusterUnavailableError(`the cluster backend (${driver}) ${why}; ${operation} not done`, { cause });
}

export class FailureLog {
  /** operation → when it last warned, and the failures counted since. */
  private readonly warned = new Map<string, { at: number; since: number }>();

  constructor(private readonly driver: string, private readonly logger: Logger, private readonly now: () => number) {}

  failed(operation: string, error: unknown): void {
    // Every failure, with its stack, for whoever debugs the backend.
    this.logger.debug(`${this.driver} adapter: ${operation} failed`, error);
    const now = this.now();
    const last = this.warned.get(operation);
    if (last && now - last.at < REPEAT_MS) {
      last.since++;
      return;
    }
    const more = last?.since ? ` (and ${last.since} more times since the last warning)` : "";
    this.warned.set(operation, { at: now, since: 0 });
    this.logger.warn(`${this.driver} adapter: ${operation} failed: ${errorText(error)}${more}; repeats are counted until the backend recovers`);
  }

  /** The backend is reachable again: says how often each operation failed unlogged, and re-arms. */
  recovered(): void {
    for (const [operation, { since }] of this.warned) {
      if (since > 0) this.logger.warn(`${this.driver} adapter: ${operation} failed ${since} more times before the backend recovered`);
    }
    this.warned.clear();
  }
}
