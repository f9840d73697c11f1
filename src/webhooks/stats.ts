// Counters an operator graphs (the metrics exporter reads this object): monotonic totals plus
// the queue depth, which is asked of the queue when scraped.

export class WebhookStats {
  /** Bodies that reached their target (2xx / successful invocation). */
  sent = 0;
  /** Events carried by those bodies. */
  eventsSent = 0;
  /** Failed attempts (non-2xx, timeout, network error, function error). */
  failures = 0;
  /** Attempts scheduled again after a failure. */
  retries = 0;
  /** Bodies given up on (retry window over, queue full or unreachable). */
  deadLetters = 0;
  /** Jobs handed to the queue. */
  queued = 0;

  constructor(readonly depth: () => Promise<number>) {}
}
