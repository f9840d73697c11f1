/**
 * Runs an async job at most once at a time (resync, sweep). A request while it runs is folded
 * into one more run right after, so no request is lost and runs never overlap. A job that throws
 * ends the run and goes to `onError`, so run() and idle() never reject.
 */
export class Rerun {
  private running?: Promise<void>;
  private again = false;

  /** `job` returns false to skip the pending extra run (the node stopped or went offline). */
  constructor(private readonly job: () => Promise<boolean>, private readonly onError: (error: unknown) => void) {}

  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do this.again = false;
        while ((await this.job()) && this.again);
      } catch (error) {
        this.onError(error);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Resolves once no run is in progress. */
  async idle(): Promise<void> {
    await this.running;
  }
}
